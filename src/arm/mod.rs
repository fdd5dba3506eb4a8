//! The ARM REST client. (Filled by the ARM client work.)
