pub mod dockerd;
