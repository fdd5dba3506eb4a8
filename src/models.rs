//! Small serde models of the resources apimfn touches. (Filled with the ARM client work.)
