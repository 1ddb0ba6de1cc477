//! The platforms a release ships, named as krew's selectors name them (`OS/ARCH`), and what
//! each needs: its Rust target, file names, and the C toolchain found on this machine.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Platform {
    LinuxAmd64,
    LinuxArm64,
    DarwinAmd64,
    DarwinArm64,
    WindowsAmd64,
}

/// The binaries every archive carries: the plugin and kubectl's completion companion.
pub const BINARIES: [&str; 2] = ["kubectl-pxtoken", "kubectl_complete-pxtoken"];

impl Platform {
    /// Every platform, in the order of plugin.yaml.
    pub const ALL: [Platform; 5] =
        [Self::LinuxAmd64, Self::LinuxArm64, Self::DarwinAmd64, Self::DarwinArm64, Self::WindowsAmd64];

    pub fn os(self) -> &'static str {
        match self {
            Self::LinuxAmd64 | Self::LinuxArm64 => "linux",
            Self::DarwinAmd64 | Self::DarwinArm64 => "darwin",
            Self::WindowsAmd64 => "windows",
        }
    }

    pub fn arch(self) -> &'static str {
        match self {
            Self::LinuxAmd64 | Self::DarwinAmd64 | Self::WindowsAmd64 => "amd64",
            Self::LinuxArm64 | Self::DarwinArm64 => "arm64",
        }
    }

    /// Linux builds are static (musl), so one archive runs on every distribution.
    pub fn rust_target(self) -> &'static str {
        match self {
            Self::LinuxAmd64 => "x86_64-unknown-linux-musl",
            Self::LinuxArm64 => "aarch64-unknown-linux-musl",
            Self::DarwinAmd64 => "x86_64-apple-darwin",
            Self::DarwinArm64 => "aarch64-apple-darwin",
            Self::WindowsAmd64 => "x86_64-pc-windows-gnu",
        }
    }

    pub fn exe_suffix(self) -> &'static str {
        if self == Self::WindowsAmd64 { ".exe" } else { "" }
    }

    /// krew unpacks both; Windows users expect a zip.
    pub fn archive_extension(self) -> &'static str {
        if self == Self::WindowsAmd64 { "zip" } else { "tar.gz" }
    }

    /// `linux_amd64`: the directory of this platform's binaries and the archive name's tail.
    pub fn slug(self) -> String {
        format!("{}_{}", self.os(), self.arch())
    }

    /// The file names of [`BINARIES`] on this platform.
    pub fn binaries(self) -> [String; 2] {
        BINARIES.map(|name| format!("{name}{}", self.exe_suffix()))
    }

    /// The environment cargo needs to build for this platform here (C compiler and linker of
    /// the target, for the crates that compile C), or why it cannot be built here.
    pub fn toolchain_env(self) -> Result<Vec<(String, String)>, String> {
        let target = self.rust_target();
        let cc_var = format!("CC_{}", target.replace('-', "_"));
        let linker_var = format!("CARGO_TARGET_{}_LINKER", target.to_uppercase().replace('-', "_"));
        let host = (std::env::consts::OS, std::env::consts::ARCH);
        match self {
            Self::LinuxAmd64 => {
                if host.0 != "linux" {
                    return Err("static Linux builds need a Linux host".into());
                }
                if find_in_path("musl-gcc").is_some() {
                    Ok(vec![(cc_var, "musl-gcc".into())])
                } else if find_in_path("cc").is_some() {
                    Ok(vec![])
                } else {
                    Err("no C compiler (install musl-tools, or gcc)".into())
                }
            }
            Self::LinuxArm64 => {
                if host == ("linux", "aarch64") && find_in_path("cc").is_some() {
                    return Ok(vec![]);
                }
                let gcc = "aarch64-linux-gnu-gcc";
                if find_in_path(gcc).is_none() {
                    return Err(format!("no {gcc} (apt-get install gcc-aarch64-linux-gnu)"));
                }
                Ok(vec![(cc_var, gcc.into()), (linker_var, gcc.into())])
            }
            Self::DarwinAmd64 | Self::DarwinArm64 => {
                if host.0 != "macos" {
                    return Err("macOS builds need a macOS host (the release workflow builds them)".into());
                }
                Ok(vec![])
            }
            Self::WindowsAmd64 => {
                let gcc = "x86_64-w64-mingw32-gcc";
                if find_in_path(gcc).is_none() {
                    return Err(format!("no {gcc} (apt-get install gcc-mingw-w64-x86-64)"));
                }
                Ok(vec![(cc_var, gcc.into()), (linker_var, gcc.into())])
            }
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os(), self.arch())
    }
}

impl FromStr for Platform {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|p| p.to_string() == s).ok_or_else(|| {
            let all: Vec<String> = Self::ALL.iter().map(Platform::to_string).collect();
            format!("unknown platform {s} (one of: {})", all.join(" "))
        })
    }
}

/// The first `name` on PATH, as the shell would find it.
fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file() || path.with_extension("exe").is_file()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_parse_from_and_print_as_krew_selectors() {
        for platform in Platform::ALL {
            assert_eq!(platform.to_string().parse::<Platform>(), Ok(platform));
        }
        let err = "linux/386".parse::<Platform>().unwrap_err();
        assert_eq!(
            err,
            "unknown platform linux/386 (one of: linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64)"
        );
    }

    #[test]
    fn windows_gets_exe_names_and_a_zip_the_others_tarballs() {
        assert_eq!(Platform::WindowsAmd64.binaries(), ["kubectl-pxtoken.exe", "kubectl_complete-pxtoken.exe"]);
        assert_eq!(Platform::WindowsAmd64.archive_extension(), "zip");
        assert_eq!(Platform::DarwinArm64.binaries(), ["kubectl-pxtoken", "kubectl_complete-pxtoken"]);
        assert_eq!(Platform::DarwinArm64.archive_extension(), "tar.gz");
        assert_eq!(Platform::LinuxArm64.slug(), "linux_arm64");
    }

    #[test]
    fn cross_builds_name_the_target_linker() {
        // Only where the cross compiler is installed; otherwise the reason names the package.
        match Platform::WindowsAmd64.toolchain_env() {
            Ok(env) => assert!(env.contains(&(
                "CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER".to_owned(),
                "x86_64-w64-mingw32-gcc".to_owned()
            ))),
            Err(why) => assert!(why.contains("gcc-mingw-w64-x86-64"), "{why}"),
        }
    }
}
