//! graphlab-flow's integration tests: the lab's flows against the emulator
//! over real HTTP, on a virtual clock that the emulator shares.

mod engine;
mod lab_flows;
mod support;
