//! The krew manifest of a release, rendered from `plugin.yaml`.
//!
//! What a release changes is decided on typed values: [`Plugin`] (krew's `Plugin` type, the
//! parts this project uses) read from plugin.yaml, with `spec.version` set to the tag, the
//! platforms that were not packed removed, and each remaining platform's `uri` and `sha256` set
//! to its archive's. The text is plugin.yaml's own, so the manifest keeps its layout and
//! wording: its `${TAG}`, `${BASE_URL}` and `${SHA256_<OS>_<ARCH>}` are filled in from those
//! values (never from the environment) and the blocks of platforms not packed are dropped.
//! The rendering is then read back and must equal the typed manifest, so a template whose text
//! says something else (a misspelt placeholder, a `uri` that is not the archive, a placeholder
//! outside those three fields) fails the release instead of shipping.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail, ensure};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_saphyr::Spanned;

use crate::platform::Platform;

/// The first line of every rendering.
pub const HEADER: &str = "# Rendered from plugin.yaml by `cargo xtask release`.\n";

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Plugin {
    pub api_version: String,
    pub kind: String,
    pub metadata: Metadata,
    pub spec: Spec,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Spec {
    pub version: String,
    pub homepage: Option<String>,
    pub short_description: String,
    pub description: Option<String>,
    pub caveats: Option<String>,
    pub platforms: Vec<PlatformSpec>,
}

/// One entry of `spec.platforms`: where krew downloads the archive and what it installs.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformSpec {
    pub selector: Selector,
    pub uri: String,
    pub sha256: String,
    pub files: Vec<FileOperation>,
    pub bin: String,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Selector {
    pub match_labels: MatchLabels,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchLabels {
    pub os: String,
    pub arch: String,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileOperation {
    pub from: String,
    pub to: String,
}

impl PlatformSpec {
    pub fn platform(&self) -> Result<Platform, String> {
        format!("{}/{}", self.selector.match_labels.os, self.selector.match_labels.arch).parse()
    }
}

/// Only where each entry of `spec.platforms` starts in the text.
#[derive(Deserialize)]
struct Outline {
    spec: OutlineSpec,
}

#[derive(Deserialize)]
struct OutlineSpec {
    platforms: Vec<Spanned<IgnoredAny>>,
}

/// One packed archive, as the manifest names it.
#[derive(Clone, Debug)]
pub struct Packed {
    pub platform: Platform,
    /// The archive's file name, which the release is downloaded as.
    pub archive: String,
    /// Lowercase hex.
    pub sha256: String,
}

/// plugin.yaml, read and checked.
pub struct Template {
    lines: Vec<String>,
    plugin: Plugin,
    /// For each entry of `spec.platforms`, its platform and the lines (0-based, end exclusive)
    /// of its block.
    blocks: Vec<(Platform, std::ops::Range<usize>)>,
}

impl Template {
    pub fn parse(text: &str) -> Result<Template> {
        let plugin: Plugin = serde_saphyr::from_str(text).context("plugin.yaml is not a krew Plugin manifest")?;
        let outline: Outline = serde_saphyr::from_str(text).context("reading plugin.yaml")?;
        let lines: Vec<String> = text.lines().map(str::to_owned).collect();
        let starts: Vec<usize> = outline.spec.platforms.iter().map(|p| p.referenced.line() as usize - 1).collect();
        ensure!(
            starts.len() == plugin.spec.platforms.len() && starts.windows(2).all(|w| w[0] < w[1]),
            "plugin.yaml: the entries of spec.platforms must each start on a line of their own"
        );
        let mut blocks = Vec::new();
        for (index, spec) in plugin.spec.platforms.iter().enumerate() {
            let platform = spec.platform().map_err(|e| anyhow::anyhow!("plugin.yaml: spec.platforms: {e}"))?;
            ensure!(
                blocks.iter().all(|(seen, _)| *seen != platform),
                "plugin.yaml: spec.platforms names {platform} twice"
            );
            let end = starts.get(index + 1).copied().unwrap_or(lines.len());
            blocks.push((platform, starts[index]..end));
        }
        Ok(Template { lines, plugin, blocks })
    }

    /// The platforms plugin.yaml describes, in its order.
    pub fn platforms(&self) -> impl Iterator<Item = Platform> + '_ {
        self.blocks.iter().map(|(platform, _)| *platform)
    }

    /// The manifest of release `tag` whose archives are `packed` and downloaded from
    /// `base_url`.
    pub fn render(&self, tag: &str, base_url: &str, packed: &[Packed]) -> Result<String> {
        for archive in packed {
            ensure!(
                self.platforms().any(|p| p == archive.platform),
                "plugin.yaml has no entry for {} in spec.platforms",
                archive.platform
            );
        }
        let expected = self.typed(tag, base_url, packed);
        let text = self.text(tag, base_url, packed)?;
        let rendered: Plugin = serde_saphyr::from_str(&text)
            .with_context(|| format!("the manifest rendered from plugin.yaml does not read back:\n{text}"))?;
        if rendered != expected {
            bail!(
                "the manifest rendered from plugin.yaml says other than the release: placeholders belong in \
                 spec.version, uri and sha256, and each uri is ${{BASE_URL}}/<archive>\nrendered: {rendered:#?}\n\
                 release: {expected:#?}"
            );
        }
        Ok(format!("{HEADER}{text}"))
    }

    /// The release's manifest as values.
    fn typed(&self, tag: &str, base_url: &str, packed: &[Packed]) -> Plugin {
        let mut plugin = self.plugin.clone();
        plugin.spec.version = tag.to_owned();
        plugin.spec.platforms.retain_mut(|spec| {
            let platform = spec.platform().expect("checked by parse");
            let Some(archive) = packed.iter().find(|a| a.platform == platform) else { return false };
            spec.uri = format!("{base_url}/{}", archive.archive);
            spec.sha256 = archive.sha256.clone();
            true
        });
        plugin
    }

    /// plugin.yaml's text, with the placeholders filled in, without its comment lines (those
    /// starting at column 0) and without the blocks of platforms not packed.
    fn text(&self, tag: &str, base_url: &str, packed: &[Packed]) -> Result<String> {
        let mut values =
            BTreeMap::from([("TAG".to_owned(), tag.to_owned()), ("BASE_URL".to_owned(), base_url.to_owned())]);
        for archive in packed {
            values.insert(placeholder(archive.platform), archive.sha256.clone());
        }
        let dropped = |line: usize| {
            self.blocks
                .iter()
                .any(|(platform, lines)| lines.contains(&line) && !packed.iter().any(|a| a.platform == *platform))
        };
        let mut out = String::new();
        for (index, line) in self.lines.iter().enumerate() {
            if line.starts_with('#') || dropped(index) {
                continue;
            }
            out.push_str(
                &substitute(line, &values)
                    .map_err(|name| anyhow::anyhow!("plugin.yaml line {}: no value for ${{{name}}}", index + 1))?,
            );
            out.push('\n');
        }
        Ok(out)
    }
}

/// `SHA256_LINUX_AMD64`: the placeholder of a platform's checksum.
pub fn placeholder(platform: Platform) -> String {
    format!("SHA256_{}", platform.slug().to_uppercase())
}

/// `line` with each `${NAME}` (NAME of `A-Z`, `0-9`, `_`) replaced by its value; or the first
/// NAME that has none. Anything else with a `$` (the caveats' shell, `${KREW_ROOT:-…}`) stays.
fn substitute(line: &str, values: &BTreeMap<String, String>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let name_len = after.bytes().take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_').count();
        out.push_str(&rest[..start]);
        if name_len > 0 && after[name_len..].starts_with('}') {
            let name = &after[..name_len];
            out.push_str(values.get(name).ok_or_else(|| name.to_owned())?);
            rest = &after[name_len + 1..];
        } else {
            out.push_str("${");
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo_template() -> Template {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../plugin.yaml")).unwrap();
        Template::parse(&text).unwrap()
    }

    fn packed(platform: Platform, sum: char) -> Packed {
        Packed {
            platform,
            archive: format!("kubectl-pxtoken_v1.2.3_{}.{}", platform.slug(), platform.archive_extension()),
            sha256: sum.to_string().repeat(64),
        }
    }

    #[test]
    fn the_committed_template_describes_every_platform_in_order() {
        assert_eq!(repo_template().platforms().collect::<Vec<_>>(), Platform::ALL);
    }

    #[test]
    fn a_release_fills_in_version_uris_and_checksums_and_keeps_the_rest_of_the_text() {
        let template = repo_template();
        let all: Vec<Packed> = Platform::ALL.iter().zip('a'..).map(|(p, c)| packed(*p, c)).collect();
        let text = template.render("v1.2.3", "https://example.test/dl", &all).unwrap();
        assert!(text.starts_with(HEADER));
        assert!(text.contains("\n  version: v1.2.3\n"), "{text}");
        assert!(text.contains("\n    uri: https://example.test/dl/kubectl-pxtoken_v1.2.3_windows_amd64.zip\n"));
        assert!(text.contains(&format!("\n    sha256: \"{}\"\n", "e".repeat(64))), "{text}");
        assert!(!text.contains("${TAG}") && !text.contains("${SHA256_") && !text.contains("${BASE_URL}"));
        assert!(text.contains("${KREW_ROOT:-$HOME/.krew}"), "the caveats' shell stays as written");
        assert_eq!(text.lines().filter(|l| l.starts_with('#')).count(), 1, "only the header is a comment");
        // Everything but the filled-in fields is plugin.yaml's text, line for line.
        let template_text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../plugin.yaml")).unwrap();
        let kept: Vec<&str> = template_text.lines().filter(|l| !l.starts_with('#') && !l.contains("${")).collect();
        let rendered: Vec<&str> = text.lines().skip(1).filter(|l| kept.contains(l)).collect();
        assert_eq!(rendered, kept);
    }

    #[test]
    fn platforms_that_were_not_packed_are_left_out() {
        let template = repo_template();
        let some = [packed(Platform::WindowsAmd64, 'b'), packed(Platform::LinuxArm64, 'a')];
        let text = template.render("v1.2.3", "http://127.0.0.1:1", &some).unwrap();
        let plugin: Plugin = serde_saphyr::from_str(&text).unwrap();
        let platforms: Vec<Platform> = plugin.spec.platforms.iter().map(|p| p.platform().unwrap()).collect();
        assert_eq!(platforms, [Platform::LinuxArm64, Platform::WindowsAmd64], "in plugin.yaml's order");
        assert_eq!(plugin.spec.platforms[1].sha256, "b".repeat(64));
        assert!(!text.contains("darwin"), "{text}");
        assert!(text.ends_with("    bin: kubectl-pxtoken.exe\n"), "{text}");
    }

    #[test]
    fn a_placeholder_without_a_value_fails_with_its_line() {
        let text = "apiVersion: v\nkind: Plugin\nmetadata:\n  name: p\nspec:\n  version: ${TAG}\n  shortDescription: ${TAGG}\n  platforms: []\n";
        let err = Template::parse(text).unwrap().render("v1", "http://x", &[]).unwrap_err();
        assert_eq!(err.to_string(), "plugin.yaml line 7: no value for ${TAGG}");
    }

    #[test]
    fn a_template_whose_text_disagrees_with_the_release_is_refused() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../plugin.yaml")).unwrap();
        // A uri that is not the archive krew would be given the checksum of.
        let wrong = text.replacen("kubectl-pxtoken_${TAG}_linux_amd64.tar.gz", "kubectl-pxtoken_linux_amd64.tar.gz", 1);
        let err = Template::parse(&wrong).unwrap().render("v1.2.3", "http://x", &[packed(Platform::LinuxAmd64, 'a')]);
        assert!(err.unwrap_err().to_string().contains("says other than the release"));
        // A placeholder in a field a release does not set.
        let wrong = text.replacen("shortDescription: ", "shortDescription: ${TAG} ", 1);
        let err = Template::parse(&wrong).unwrap().render("v1.2.3", "http://x", &[packed(Platform::LinuxAmd64, 'a')]);
        assert!(err.unwrap_err().to_string().contains("says other than the release"));
    }

    #[test]
    fn a_template_with_an_unknown_platform_or_key_is_refused() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../plugin.yaml")).unwrap();
        let err = Template::parse(&text.replacen("arch: arm64", "arch: riscv64", 1)).err().unwrap();
        assert!(err.to_string().contains("unknown platform linux/riscv64"), "{err}");
        let err = Template::parse(&text.replacen("shortDescription:", "shortDescripton:", 1)).err().unwrap();
        assert!(format!("{err:#}").contains("shortDescripton"), "{err:#}");
    }

    #[test]
    fn placeholders_are_upper_case_names_in_braces() {
        let values = BTreeMap::from([("A_1".to_owned(), "x".to_owned())]);
        assert_eq!(substitute("${A_1}/${A_1}", &values), Ok("x/x".to_owned()));
        assert_eq!(substitute("${HOME:-/} $(pwd) ${a} $", &values), Ok("${HOME:-/} $(pwd) ${a} $".to_owned()));
        assert_eq!(substitute("${B}", &values), Err("B".to_owned()));
    }
}
