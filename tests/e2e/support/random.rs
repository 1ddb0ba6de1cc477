//! Random names and secrets, from /dev/urandom.

use std::io::Read;

fn random_bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut buf)).expect("reading /dev/urandom");
    buf
}

fn random_from(alphabet: &[u8], len: usize) -> String {
    // 256 is not a multiple of every alphabet size; the slight bias does not matter here.
    random_bytes(len).into_iter().map(|b| alphabet[b as usize % alphabet.len()] as char).collect()
}

/// 64 random printable characters, like the shared secret the Portworx operator generates.
/// Punctuation included, but never first: a value starting with `-` would read as a flag in
/// `--shared-secret VALUE`.
pub fn random_secret() -> String {
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    const PRINTABLE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~!@#%^*+=";
    random_from(ALNUM, 1) + &random_from(PRINTABLE, 63)
}

/// 8 random characters valid anywhere in a DNS label.
pub fn random_name_suffix() -> String {
    random_from(b"abcdefghijklmnopqrstuvwxyz0123456789", 8)
}
