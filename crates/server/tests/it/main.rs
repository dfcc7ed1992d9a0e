//! Integration tests of the server over real HTTP: one test binary, one module
//! per endpoint family.

mod fixtures;
mod management;
mod support;
mod token;
