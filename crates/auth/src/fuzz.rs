//! Entry points for the fuzz targets (`crates/fuzz`): this crate's readers
//! of untrusted input (tokens' claims, the identity platform's answers, the
//! token cache file), callable on text. Not an API.

/// Reads a JWT's claims as the client does (no signature: the client only
/// reads its own tokens): how many claims it found.
pub fn claims(token: &str) -> usize {
    crate::client::claims_of(token).as_object().map_or(0, |o| o.len())
}

/// Reads a token endpoint's answer, success or error shape.
pub fn token_answer(bytes: &[u8]) -> bool {
    serde_json::from_slice::<crate::MsTokenResponse>(bytes).is_ok()
        | serde_json::from_slice::<crate::MsErrorResponse>(bytes).is_ok()
}

/// Reads a token cache file.
pub fn cache(text: &str) -> bool {
    serde_json::from_str::<crate::CacheData>(text).is_ok()
}
