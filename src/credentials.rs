//! Sign-in through azure_identity. (Filled by the credentials work.)
