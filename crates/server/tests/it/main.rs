//! Integration tests of the server over real HTTP: one test binary, one module
//! per endpoint family.

mod algorithms;
mod discovery;
mod fixtures;
mod maintenance;
mod management;
mod support;
mod token;
