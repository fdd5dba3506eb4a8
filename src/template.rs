//! The bundled function template. (Filled by the template work.)
