//! Scripted LwM2M server for tests.
