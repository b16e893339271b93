//! The tenant's signing key and the access tokens it issues and accepts.
//!
//! Tokens are RS256 JWTs shaped like the v1.0 access tokens Microsoft Graph
//! receives (`aud` = `https://graph.microsoft.com`, `iss` = `{authority}/{tid}/`,
//! `scp` for delegated scopes, `roles` for application roles).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rsa::{
    RsaPrivateKey, RsaPublicKey,
    pkcs1::EncodeRsaPrivateKey,
    pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding},
    traits::PublicKeyParts,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Microsoft Graph's application id, one of the two audiences Graph accepts.
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
/// Microsoft Graph's resource URI, the other accepted audience.
pub const GRAPH_RESOURCE: &str = "https://graph.microsoft.com";

/// Errors creating or loading the signing key.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// RSA key generation or encoding failed.
    #[error("signing key: {0}")]
    Rsa(String),
}

/// The tenant's RSA signing key.
pub struct SigningKey {
    kid: String,
    private_pem: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    n: String,
    e: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Generates a new 2048-bit key.
    pub fn generate() -> Result<SigningKey, KeyError> {
        let mut rng = rsa::rand_core::OsRng;
        let key = RsaPrivateKey::new(&mut rng, 2048)
            .map_err(|e| KeyError::Rsa(e.to_string()))?;
        let pem =
            key.to_pkcs8_pem(LineEnding::LF).map_err(|e| KeyError::Rsa(e.to_string()))?;
        SigningKey::from_pem(&pem)
    }

    /// One key for the whole process, generated the first time it is asked
    /// for: what [`crate::TenantConfig::reuse_key`] tenants sign with.
    pub(crate) fn process_wide() -> Result<SigningKey, KeyError> {
        static PEM: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let pem = match PEM.get() {
            Some(pem) => pem,
            None => {
                let key = SigningKey::generate()?;
                PEM.get_or_init(|| key.private_pem().to_owned())
            }
        };
        SigningKey::from_pem(pem)
    }

    /// Loads a PKCS#8 PEM private key.
    pub fn from_pem(pem: &str) -> Result<SigningKey, KeyError> {
        let rsa_err = |e: &dyn std::fmt::Display| KeyError::Rsa(e.to_string());
        let key = RsaPrivateKey::from_pkcs8_pem(pem).map_err(|e| rsa_err(&e))?;
        let public = RsaPublicKey::from(&key);
        let der = key.to_pkcs1_der().map_err(|e| rsa_err(&e))?;
        let encoding = EncodingKey::from_rsa_der(der.as_bytes());
        let n = URL_SAFE_NO_PAD.encode(public.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(public.e().to_bytes_be());
        let decoding =
            DecodingKey::from_rsa_components(&n, &e).map_err(|e| rsa_err(&e))?;
        // The key id is a thumbprint of the public key, as Entra's `kid`s are.
        let kid = URL_SAFE_NO_PAD.encode(&Sha256::digest(format!("{n}.{e}"))[..20]);
        Ok(SigningKey { kid, private_pem: pem.to_owned(), encoding, decoding, n, e })
    }

    /// The PKCS#8 PEM text, for persisting in the state database.
    pub(crate) fn private_pem(&self) -> &str {
        &self.private_pem
    }

    /// The key id (`kid`) put in every token header.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK (for the JWKS document).
    pub fn jwk(&self) -> serde_json::Value {
        serde_json::json!({
            "kty": "RSA", "use": "sig", "alg": "RS256",
            "kid": self.kid, "n": self.n, "e": self.e,
        })
    }

    /// Signs a set of claims.
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String, KeyError> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding)
            .map_err(|e| KeyError::Rsa(e.to_string()))
    }
}

/// The claims of an access token for Microsoft Graph.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct AccessClaims {
    /// Audience: `https://graph.microsoft.com` or Graph's app id.
    pub aud: String,
    /// Issuer.
    pub iss: String,
    /// Issued at.
    pub iat: u64,
    /// Not before.
    pub nbf: u64,
    /// Expiry.
    pub exp: u64,
    /// Tenant id.
    pub tid: String,
    /// Object id of the user (delegated) or service principal (app-only).
    pub oid: String,
    /// Subject.
    pub sub: String,
    /// Client application id.
    pub appid: String,
    /// Client display name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub app_displayname: String,
    /// `user` or `app`.
    pub idtyp: String,
    /// Delegated scopes, space separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scp: Option<String>,
    /// Application roles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    /// The user's principal name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upn: Option<String>,
    /// Same as `upn` in v1 tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique_name: Option<String>,
    /// The user's display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Directory role template ids of the user.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wids: Vec<String>,
    /// Token version.
    pub ver: String,
    /// Unique token id.
    pub uti: String,
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The token is expired.
    #[error("Lifetime validation failed, the token is expired.")]
    Expired,
    /// The token is not valid yet.
    #[error("Lifetime validation failed, the token is not yet valid.")]
    NotYetValid,
    /// The audience is not Microsoft Graph.
    #[error("Access token validation failure. Invalid audience.")]
    Audience,
    /// The token was issued for another tenant.
    #[error("Access token validation failure. Invalid tenant.")]
    Tenant,
    /// The signature or key id does not match the tenant's key.
    #[error("Access token validation failure. Signature validation failed.")]
    Signature,
    /// Not a JWT.
    #[error("Invalid JWT token. The token is not in JWS Compact Serialization Format.")]
    Malformed,
}

/// Clock skew tolerated on `exp` and `nbf`, in seconds.
const LEEWAY_SECS: u64 = 60;

/// Tokens whose signature was already verified, so that a client sending the
/// same token many times (every batch item carries it) pays for RSA once.
/// Lifetime, audience and tenant are still checked on every use.
#[derive(Debug, Default)]
pub(crate) struct VerifiedCache(
    std::sync::Mutex<std::collections::HashMap<String, AccessClaims>>,
);

/// Entries kept before the cache is emptied (tokens live an hour; this is plenty).
const CACHE_LIMIT: usize = 4096;

impl VerifiedCache {
    /// Validates `token`, verifying its signature only the first time it is seen.
    pub(crate) fn validate(
        &self,
        key: &SigningKey,
        token: &str,
        tenant_id: &str,
        now: u64,
    ) -> Result<AccessClaims, TokenError> {
        let cached = self.0.lock().unwrap_or_else(|e| e.into_inner()).get(token).cloned();
        let claims = match cached {
            Some(claims) => claims,
            None => {
                let claims = key.verify_signature(token)?;
                let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
                if map.len() >= CACHE_LIMIT {
                    map.clear();
                }
                map.insert(token.to_owned(), claims.clone());
                claims
            }
        };
        check_claims(claims, tenant_id, now)
    }
}

impl SigningKey {
    /// Checks a bearer token: signature, `kid`, lifetime (at `now`, seconds
    /// since the Unix epoch: the tenant's clock), audience, tenant.
    pub fn validate(
        &self,
        token: &str,
        tenant_id: &str,
        now: u64,
    ) -> Result<AccessClaims, TokenError> {
        check_claims(self.verify_signature(token)?, tenant_id, now)
    }

    /// Checks the header and signature only, and decodes the claims.
    fn verify_signature(&self, token: &str) -> Result<AccessClaims, TokenError> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        if header.alg != Algorithm::RS256
            || header.kid.as_deref() != Some(self.kid.as_str())
        {
            return Err(TokenError::Signature);
        }
        let mut validation = Validation::new(Algorithm::RS256);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let data =
            jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &validation)
                .map_err(|e| match e.kind() {
                    jsonwebtoken::errors::ErrorKind::InvalidSignature => {
                        TokenError::Signature
                    }
                    _ => TokenError::Malformed,
                })?;
        Ok(data.claims)
    }
}

fn check_claims(
    claims: AccessClaims,
    tenant_id: &str,
    now: u64,
) -> Result<AccessClaims, TokenError> {
    if claims.exp + LEEWAY_SECS <= now {
        return Err(TokenError::Expired);
    }
    if claims.nbf > now + LEEWAY_SECS {
        return Err(TokenError::NotYetValid);
    }
    if claims.aud != GRAPH_RESOURCE
        && claims.aud != GRAPH_APP_ID
        && claims.aud != format!("{GRAPH_RESOURCE}/")
    {
        return Err(TokenError::Audience);
    }
    if claims.tid != tenant_id {
        return Err(TokenError::Tenant);
    }
    Ok(claims)
}
