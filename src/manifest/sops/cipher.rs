//! The cryptography, all from maintained crates: the data key is an age file (`age`), each value an
//! `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]` string sealed with AES-256-GCM (`aes-gcm`, with sops's
//! 32-byte nonces) and the mapping keys leading to it as additional data.

use std::fmt;
use std::io::Read;

use aes_gcm::aead::consts::U32;
use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::aes::Aes256;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use zeroize::Zeroizing;

use super::SopsError;
use super::keys::AgeKeys;
use super::metadata::Metadata;

/// AES-256-GCM with the 32-byte nonces sops uses.
type SopsGcm = aes_gcm::AesGcm<Aes256, U32>;

/// The prefix of every encrypted value.
pub const ENC_PREFIX: &str = "ENC[AES256_GCM,";

/// A document's 32-byte data key; wiped when dropped, never shown.
#[derive(Clone)]
pub struct DataKey(Zeroizing<[u8; 32]>);

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(***)")
    }
}

/// The data key, from the first age stanza one of `keys` opens: the stanza of a known recipient first.
///
/// # Errors
/// [`SopsError::NoKey`] when no key was given, [`SopsError::WrongKey`] when none opens a stanza.
pub fn data_key(meta: &Metadata, keys: &AgeKeys) -> Result<DataKey, SopsError> {
    let recipients: Vec<String> = meta.age.iter().map(|s| s.recipient.clone()).collect();
    if meta.age.is_empty() {
        return Err(SopsError::NoAgeRecipient {
            others: meta.other_keys.clone(),
        });
    }
    if keys.is_empty() {
        return Err(SopsError::NoKey {
            recipients,
            problems: keys.problems().join("; "),
        });
    }
    let mut stanzas: Vec<_> = meta.age.iter().collect();
    stanzas.sort_by_key(|s| keys.for_recipient(&s.recipient).is_none());
    for stanza in stanzas {
        if let Some(key) = open_stanza(&stanza.enc, keys)? {
            return Ok(key);
        }
    }
    Err(SopsError::WrongKey {
        recipients,
        have: keys.recipients(),
    })
}

/// `Some(key)` when one of `keys` opens the armoured age file `enc`.
fn open_stanza(enc: &str, keys: &AgeKeys) -> Result<Option<DataKey>, SopsError> {
    let reader = age::armor::ArmoredReader::new(enc.as_bytes());
    let decryptor = age::Decryptor::new(reader)
        .map_err(|e| SopsError::Metadata(format!("sops.age enc is not an age file: {e}")))?;
    let identities = keys.all().iter().map(|i| i as &dyn age::Identity);
    let mut plain = match decryptor.decrypt(identities) {
        Ok(r) => r,
        Err(age::DecryptError::NoMatchingKeys) => return Ok(None),
        Err(e) => {
            return Err(SopsError::Metadata(format!(
                "sops.age enc cannot be decrypted: {e}"
            )));
        }
    };
    let mut bytes = Zeroizing::new(Vec::with_capacity(32));
    plain
        .read_to_end(&mut bytes)
        .map_err(|e| SopsError::Metadata(format!("sops.age enc cannot be decrypted: {e}")))?;
    let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
        SopsError::Metadata(format!(
            "the data key in sops.age is {} bytes, not 32",
            bytes.len()
        ))
    })?;
    Ok(Some(DataKey(Zeroizing::new(key))))
}

/// True when `s` has the shape of a sops-encrypted value.
pub fn is_encrypted(s: &str) -> bool {
    s.starts_with(ENC_PREFIX) && s.ends_with(']')
}

/// The parts of an `ENC[…]` value (sops's `encre`, anchored at the start).
struct Sealed {
    data: Vec<u8>,
    iv: Vec<u8>,
    tag: Vec<u8>,
    kind: String,
}

fn parse(value: &str) -> Option<Sealed> {
    let inner = value.strip_prefix(ENC_PREFIX)?.strip_suffix(']')?;
    let mut fields = inner.splitn(4, ',');
    let mut field = |name: &str| fields.next()?.strip_prefix(name).map(str::to_string);
    let (data, iv, tag, kind) = (
        field("data:")?,
        field("iv:")?,
        field("tag:")?,
        field("type:")?,
    );
    Some(Sealed {
        data: STANDARD.decode(data).ok()?,
        iv: STANDARD.decode(iv).ok()?,
        tag: STANDARD.decode(tag).ok()?,
        kind,
    })
}

/// A decrypted value with the type sops recorded.
#[derive(Debug, PartialEq)]
pub enum Plain {
    /// A JSON value (string, integer, float or boolean).
    Value(Value),
    /// An encrypted YAML comment: not part of the object nor of the MAC.
    Comment,
}

/// Opens one `ENC[…]` value with the data key and its additional data (`key1:key2:`).
///
/// # Errors
/// A malformed value, a failed authentication (wrong key, tampered value, value moved to another
/// path), or a plaintext that does not parse as its recorded type. Messages never hold plaintext.
pub fn decrypt(value: &str, key: &DataKey, aad: &str) -> Result<Plain, SopsError> {
    let sealed = parse(value).ok_or(SopsError::Malformed)?;
    if sealed.iv.len() != 32 || sealed.tag.len() != 16 {
        return Err(SopsError::Malformed);
    }
    let cipher = SopsGcm::new(GenericArray::from_slice(key.0.as_slice()));
    let mut message = sealed.data;
    message.extend_from_slice(&sealed.tag);
    let nonce = GenericArray::from_slice(&sealed.iv);
    let plain = Zeroizing::new(
        cipher
            .decrypt(
                nonce,
                Payload {
                    msg: &message,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| SopsError::Authentication)?,
    );
    let text = || String::from_utf8(plain.to_vec()).map_err(|_| SopsError::BadPlaintext("str"));
    Ok(Plain::Value(match sealed.kind.as_str() {
        "str" | "bytes" | "time" => Value::String(text()?),
        "int" => Value::from(
            text()?
                .parse::<i64>()
                .map_err(|_| SopsError::BadPlaintext("int"))?,
        ),
        "float" => text()?
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or(SopsError::BadPlaintext("float"))?,
        "bool" => Value::Bool(parse_go_bool(&text()?).ok_or(SopsError::BadPlaintext("bool"))?),
        "comment" => return Ok(Plain::Comment),
        other => return Err(SopsError::UnknownType(other.to_string())),
    }))
}

/// Go's `strconv.ParseBool`.
fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// The bytes sops hashes for a value (sops.go `ToBytes`): strings as they are, numbers in Go's
/// shortest form, booleans as `True`/`False`. `None` for nulls and containers.
pub fn mac_bytes(value: &Value) -> Option<Vec<u8>> {
    match value {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Bool(true) => Some(b"True".to_vec()),
        Value::Bool(false) => Some(b"False".to_vec()),
        Value::Number(n) => Some(
            match (n.as_i64(), n.as_u64(), n.as_f64()) {
                (Some(i), _, _) => i.to_string(),
                (None, Some(u), _) => u.to_string(),
                // Rust's shortest round-trip form without exponent is Go's FormatFloat(f, 'f', -1, 64).
                (None, None, Some(f)) => format!("{f}"),
                _ => return None,
            }
            .into_bytes(),
        ),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// Opens the MAC stored in the metadata: the upper-case hex SHA-512 sops computed.
///
/// # Errors
/// The MAC is missing or does not authenticate with the data key.
pub fn stored_mac(meta: &Metadata, key: &DataKey) -> Result<String, SopsError> {
    if meta.mac.is_empty() {
        return Err(SopsError::MacMismatch);
    }
    match decrypt(&meta.mac, key, &meta.lastmodified).map_err(|_| SopsError::MacUnreadable)? {
        Plain::Value(Value::String(s)) => Ok(s),
        _ => Err(SopsError::MacUnreadable),
    }
}

impl DataKey {
    /// A fresh random data key (one per encrypted file, as sops makes).
    pub fn random() -> DataKey {
        use aes_gcm::aead::{KeyInit, OsRng};
        let key = SopsGcm::generate_key(&mut OsRng);
        let mut bytes = Zeroizing::new([0u8; 32]);
        bytes.copy_from_slice(key.as_slice());
        DataKey(bytes)
    }

    /// The raw key, for the age stanzas that carry it.
    pub(super) fn bytes(&self) -> &[u8] {
        self.0.as_slice()
    }

    /// Seals `plain` as sops does (aes/cipher.go `Encrypt`): a random 32-byte nonce, `aad` as
    /// additional data, the type recorded; an empty text stays empty.
    ///
    /// # Errors
    /// AES-GCM refuses the input (longer than 64 GiB).
    pub fn seal(&self, plain: &[u8], aad: &str, kind: &str) -> Result<String, SopsError> {
        use aes_gcm::aead::{AeadCore, OsRng};
        if plain.is_empty() {
            return Ok(String::new());
        }
        let iv = SopsGcm::generate_nonce(&mut OsRng);
        self.seal_with_iv(plain, aad, kind, iv.into())
    }

    fn seal_with_iv(
        &self,
        plain: &[u8],
        aad: &str,
        kind: &str,
        iv: [u8; 32],
    ) -> Result<String, SopsError> {
        let cipher = SopsGcm::new(GenericArray::from_slice(self.0.as_slice()));
        let out = cipher
            .encrypt(
                GenericArray::from_slice(&iv),
                Payload {
                    msg: plain,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| SopsError::Encrypt("AES-GCM refused the value (too long)".into()))?;
        let (data, tag) = out.split_at(out.len() - 16);
        Ok(format!(
            "ENC[AES256_GCM,data:{},iv:{},tag:{},type:{kind}]",
            STANDARD.encode(data),
            STANDARD.encode(iv),
            STANDARD.encode(tag)
        ))
    }
}

/// The type sops records for a value it encrypts, `None` for nulls and containers.
pub fn value_type(value: &Value) -> Option<&'static str> {
    match value {
        Value::String(_) => Some("str"),
        Value::Bool(_) => Some("bool"),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some("int"),
        Value::Number(_) => Some("float"),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

#[cfg(test)]
impl DataKey {
    pub fn from_bytes(bytes: [u8; 32]) -> DataKey {
        DataKey(Zeroizing::new(bytes))
    }

    /// Seals a value with a chosen nonce, for tests of the reading side.
    pub fn seal_fixed(&self, plain: &str, aad: &str, kind: &str, iv: [u8; 32]) -> String {
        self.seal_with_iv(plain.as_bytes(), aad, kind, iv)
            .expect("AES-GCM seals a short test value")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_with_their_types_and_paths() {
        let key = DataKey::from_bytes([7; 32]);
        let cases = [
            ("hunter2", "str", Value::from("hunter2")),
            ("42", "int", Value::from(42)),
            ("1.5", "float", Value::from(1.5)),
            ("True", "bool", Value::from(true)),
        ];
        for (plain, kind, want) in cases {
            let sealed = key.seal_fixed(plain, "data:password:", kind, [1; 32]);
            assert!(is_encrypted(&sealed));
            assert_eq!(
                decrypt(&sealed, &key, "data:password:").unwrap(),
                Plain::Value(want)
            );
            // Moved to another key: the additional data no longer matches.
            assert!(matches!(
                decrypt(&sealed, &key, "data:user:"),
                Err(SopsError::Authentication)
            ));
        }
        let other = DataKey::from_bytes([8; 32]);
        let sealed = key.seal_fixed("x", "a:", "str", [2; 32]);
        assert!(decrypt(&sealed, &other, "a:").is_err());
        assert!(matches!(
            decrypt("ENC[AES256_GCM,data:%%,iv:,tag:,type:str]", &key, ""),
            Err(SopsError::Malformed)
        ));
    }

    #[test]
    fn mac_bytes_as_go_writes_them() {
        let cases = [
            (Value::from("x"), Some("x")),
            (Value::from(3), Some("3")),
            (Value::from(1.0), Some("1")),
            (Value::from(0.1), Some("0.1")),
            (Value::from(1e21), Some("1000000000000000000000")),
            (Value::from(false), Some("False")),
            (Value::Null, None),
        ];
        for (v, want) in cases {
            assert_eq!(mac_bytes(&v), want.map(|s| s.as_bytes().to_vec()), "{v}");
        }
    }
}
