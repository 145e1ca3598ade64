//! Parser and block-detection tests on fixtures that reproduce real
//! captured marketplace pages (structures and quirks studied from public
//! repositories; each test names the public page it mirrors). The
//! fixtures are ours, written for these tests: no copy of anyone's page.
//!
//! One test binary for all platforms (one link instead of five).

mod support;

mod alibaba;
mod aliexpress;
mod blocks;
mod gone;
mod s1688;
mod taobao;
mod tmall;
