//! Listings → findings: the brand's marks in titles ([`brand`]), photos
//! against official photos ([`imagehash`]), the full-text index of
//! listings ([`index`]), and the score with its reasons ([`score`]).

pub mod brand;
pub mod complaint;
pub mod decision;
pub mod imagehash;
pub mod index;
pub mod score;
pub mod signal;
