//! The built-in ComfyUI simulator used by the demo, the tests and the benchmarks.
