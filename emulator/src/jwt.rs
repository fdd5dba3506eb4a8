//! RS256 JSON Web Tokens, signed with the emulated tenant's key (kept in the world so tokens stay
//! valid across a restart). Entra issues them; ARM, Graph, SCM and Easy Auth validate them.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{self, KeyPair as _};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

pub struct Signer {
    key: KeyPair,
    /// Key id, as in the JWKS and the token header.
    pub kid: String,
}

impl Signer {
    /// The key saved in `saved` (PKCS#8 DER, base64), or a new one; returns the signer and what to
    /// save.
    pub fn load_or_create(saved: Option<&str>) -> anyhow::Result<(Signer, String)> {
        let key = match saved.and_then(|s| STANDARD.decode(s).ok()) {
            Some(der) => KeyPair::from_pkcs8(&der)
                .map_err(|e| anyhow::anyhow!("saved signing key rejected: {e}"))?,
            None => KeyPair::generate(KeySize::Rsa2048)
                .map_err(|_| anyhow::anyhow!("could not generate the signing key"))?,
        };
        let der = key
            .as_der()
            .map_err(|_| anyhow::anyhow!("could not encode the signing key"))?;
        let encoded = STANDARD.encode(der.as_ref());
        let kid = {
            let digest =
                aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, key.public_key().as_ref());
            URL_SAFE_NO_PAD.encode(&digest.as_ref()[..20])
        };
        Ok((Signer { key, kid }, encoded))
    }

    /// `header.payload.signature` for these claims.
    pub fn sign(&self, claims: &Value) -> String {
        let header = json!({"typ": "JWT", "alg": "RS256", "kid": self.kid, "x5t": self.kid});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut sig = vec![0u8; self.key.public_modulus_len()];
        // Signing with a valid key into a correctly sized buffer does not fail.
        let _ = self.key.sign(
            &signature::RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            input.as_bytes(),
            &mut sig,
        );
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }

    /// The public key as a JWK (for `discovery/v2.0/keys`).
    pub fn jwk(&self) -> Value {
        let pk = self.key.public_key();
        let n = pk.modulus().big_endian_without_leading_zero();
        let e = pk.exponent().big_endian_without_leading_zero();
        json!({
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.kid,
            "x5t": self.kid,
            "n": URL_SAFE_NO_PAD.encode(n),
            "e": URL_SAFE_NO_PAD.encode(e),
        })
    }

    /// Check the signature and return the claims. Time and audience checks are the caller's: each
    /// service has its own rules and error messages.
    pub fn verify(&self, token: &str) -> Result<Value, String> {
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err("the token is not a JWS compact serialisation".into());
        };
        let header: Value = URL_SAFE_NO_PAD
            .decode(h)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or("the token header is not base64url JSON")?;
        if header["alg"] != "RS256" {
            return Err(format!("unsupported token algorithm {}", header["alg"]));
        }
        let sig = URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|_| "the token signature is not base64url")?;
        let public = signature::UnparsedPublicKey::new(
            &signature::RSA_PKCS1_2048_8192_SHA256,
            self.key.public_key().as_ref(),
        );
        public
            .verify(format!("{h}.{p}").as_bytes(), &sig)
            .map_err(|_| "the token signature is invalid".to_string())?;
        URL_SAFE_NO_PAD
            .decode(p)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| "the token payload is not base64url JSON".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_verifies_and_survives_a_reload() {
        let (signer, saved) = Signer::load_or_create(None).expect("new");
        let token = signer.sign(&json!({"oid": "x", "exp": 1}));
        assert_eq!(signer.verify(&token).expect("valid")["oid"], "x");

        let (again, _) = Signer::load_or_create(Some(&saved)).expect("reload");
        assert_eq!(again.kid, signer.kid);
        assert!(again.verify(&token).is_ok());

        let mut tampered = token.clone();
        tampered.insert(token.find('.').expect("dot") + 2, 'A');
        assert!(signer.verify(&tampered).is_err());
        let (other, _) = Signer::load_or_create(None).expect("other");
        assert!(other.verify(&token).is_err());
        assert_eq!(signer.jwk()["kty"], "RSA");
    }
}
