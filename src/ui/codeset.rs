//! The terminal's character set, from the locale (`LC_ALL`, `LC_CTYPE`, `LANG`): text for a
//! person is written in it. Korean on the legacy EUC-KR / CP949 hosts (`LANG=ko_KR.eucKR`,
//! still common under JEUS and WebLogic) is re-encoded; a codeset that cannot show Hangul gets
//! English instead. JSON documents stay UTF-8 whatever the terminal (RFC 8259).

use std::borrow::Cow;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codeset {
    /// UTF-8, and what is assumed when the locale names none (`C`, unset).
    Utf8,
    /// EUC-KR and its superset CP949 (UHC), encoded as CP949 (encoding_rs's EUC-KR).
    EucKr,
    /// Any other named codeset (ISO-8859-1, ...): ASCII text only, so English.
    Other,
}

impl Codeset {
    /// The codeset a locale name says: `ko_KR.eucKR`, `ko_KR.CP949`, `en_US.UTF-8`; glibc's
    /// `ko_KR` without one is EUC-KR.
    pub fn of_locale(locale: Option<&str>) -> Codeset {
        let Some(locale) = locale.map(|l| l.split('@').next().unwrap_or(l)) else {
            return Codeset::Utf8;
        };
        let Some((language, codeset)) = locale.split_once('.') else {
            return match locale.starts_with("ko_KR") {
                true => Codeset::EucKr,
                false => Codeset::Utf8,
            };
        };
        let codeset: String = codeset
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        match codeset.as_str() {
            "utf8" => Codeset::Utf8,
            "euckr" | "cp949" | "uhc" | "ms949" | "windows949" => Codeset::EucKr,
            // `C.UTF-8` is caught above; a bare C/POSIX names no codeset of its own.
            _ if language == "C" || language == "POSIX" => Codeset::Utf8,
            _ => Codeset::Other,
        }
    }

    /// Whether Korean can be shown at all.
    pub fn shows_hangul(self) -> bool {
        self != Codeset::Other
    }

    /// `text` as the terminal's bytes; a character the codeset lacks becomes `?`.
    pub fn encode(self, text: &str) -> Cow<'_, [u8]> {
        match self {
            Codeset::Utf8 | Codeset::Other => Cow::Borrowed(text.as_bytes()),
            Codeset::EucKr => Cow::Owned(encode_euc_kr(text)),
        }
    }
}

fn encode_euc_kr(text: &str) -> Vec<u8> {
    use encoding_rs::EncoderResult;
    let mut encoder = encoding_rs::EUC_KR.new_encoder();
    let mut out = Vec::with_capacity(text.len() + 16);
    let mut rest = text;
    loop {
        let room = encoder
            .max_buffer_length_from_utf8_without_replacement(rest.len())
            .unwrap_or(rest.len() * 2 + 16);
        let start = out.len();
        out.resize(start + room, 0);
        let (result, read, written) =
            encoder.encode_from_utf8_without_replacement(rest, &mut out[start..], true);
        out.truncate(start + written);
        rest = &rest[read..];
        match result {
            EncoderResult::InputEmpty => return out,
            EncoderResult::Unmappable(_) => out.push(b'?'),
            EncoderResult::OutputFull => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locales_name_their_codeset() {
        for (locale, codeset) in [
            ("ko_KR.eucKR", Codeset::EucKr),
            ("ko_KR.EUC-KR", Codeset::EucKr),
            ("ko_KR.euckr@latin", Codeset::EucKr),
            ("ko_KR.CP949", Codeset::EucKr),
            ("ko_KR", Codeset::EucKr),
            ("ko_KR.UTF-8", Codeset::Utf8),
            ("ko_KR.utf8", Codeset::Utf8),
            ("C", Codeset::Utf8),
            ("C.UTF-8", Codeset::Utf8),
            ("POSIX", Codeset::Utf8),
            ("en_US", Codeset::Utf8),
            ("en_US.ISO-8859-1", Codeset::Other),
        ] {
            assert_eq!(Codeset::of_locale(Some(locale)), codeset, "{locale}");
        }
        assert_eq!(Codeset::of_locale(None), Codeset::Utf8);
    }

    /// The first character of `text` that EUC-KR proper (KS X 1001) lacks: CP949's extra
    /// syllables would show as garbage on a strict EUC-KR terminal.
    fn outside_ks_x_1001(text: &str) -> Option<char> {
        text.chars().find(|c| {
            let mut buf = [0u8; 4];
            let (bytes, _, unmappable) = encoding_rs::EUC_KR.encode(c.encode_utf8(&mut buf));
            unmappable || (bytes.len() == 2 && (bytes[0] < 0xa1 || bytes[1] < 0xa1))
        })
    }

    /// Every Korean sentence we print can be shown on an EUC-KR terminal as it is.
    #[test]
    fn every_korean_text_fits_euc_kr() {
        let messages: std::collections::BTreeMap<
            String,
            std::collections::BTreeMap<String, String>,
        > = toml::from_str(include_str!("../../messages/messages.toml")).unwrap();
        let rules = crate::doctor::catalog::rules();
        let texts = messages
            .iter()
            .map(|(id, m)| (id.clone(), m["ko"].clone()))
            .chain(rules.iter().flat_map(|r| {
                [
                    (r.id.clone(), r.title.ko.clone()),
                    (r.id.clone(), r.fix.ko.clone()),
                ]
            }));
        for (id, text) in texts {
            assert_eq!(outside_ks_x_1001(&text), None, "{id}: {text}");
        }
    }

    #[test]
    fn hangul_in_euc_kr_and_unknown_characters_as_question_marks() {
        let bytes = Codeset::EucKr.encode("설치 완료 ✓");
        assert_eq!(&bytes[..], b"\xbc\xb3\xc4\xa1 \xbf\xcf\xb7\xe1 ?");
        assert_eq!(&Codeset::Utf8.encode("설치")[..], "설치".as_bytes());
    }
}
