//! Endpoints per Azure cloud. (Filled by the transport work.)
