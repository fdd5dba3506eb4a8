//! The one HTTP client. (Filled by the transport work.)
