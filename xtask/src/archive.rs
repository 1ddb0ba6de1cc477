//! Reproducible archives: the same files and mtime give the same bytes, whoever packs them.
//! Entries are sorted by name (byte order), owned by 0:0 with no user or group names, all
//! stamped with one mtime (the last commit's), regular files only (no directory entries, as
//! krew needs none), modes 0755 for the binaries and 0644 for the rest.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use flate2::{Compression, GzBuilder};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, System, ZipWriter};

/// One file of an archive.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Path inside the archive, `/`-separated.
    pub name: String,
    pub source: PathBuf,
    pub mode: u32,
}

/// Writes `entries` to `out` as a `.tar.gz` (ustar) or, for a `.zip` path, a deflated zip.
pub fn write(entries: &[Entry], mtime: u64, out: &Path) -> Result<()> {
    let mut entries = entries.to_vec();
    entries.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    let file = File::create(out).with_context(|| format!("creating {}", out.display()))?;
    let written = if out.extension().is_some_and(|ext| ext == "zip") {
        write_zip(&entries, mtime, BufWriter::new(file))
    } else {
        write_tar_gz(&entries, mtime, BufWriter::new(file))
    };
    written.with_context(|| format!("writing {}", out.display()))
}

fn write_tar_gz(entries: &[Entry], mtime: u64, out: impl Write) -> Result<()> {
    // No file name and mtime 0 in the gzip header, like `gzip -n`.
    let gz = GzBuilder::new().mtime(0).operating_system(3).write(out, Compression::best());
    let mut tar = tar::Builder::new(gz);
    for entry in entries {
        let mut source = open(&entry.source)?;
        let mut header = tar::Header::new_ustar();
        header.set_path(&entry.name).with_context(|| format!("archive name {}", entry.name))?;
        header.set_size(source.metadata()?.len());
        header.set_mode(entry.mode);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(mtime);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        tar.append(&header, &mut source)?;
    }
    tar.into_inner()?.finish()?.flush()?;
    Ok(())
}

fn write_zip<W: Write + io::Seek>(entries: &[Entry], mtime: u64, out: W) -> Result<()> {
    let mut zip = ZipWriter::new(out);
    for entry in entries {
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .compression_level(Some(9))
            .system(System::Unix)
            .unix_permissions(entry.mode)
            .last_modified_time(dos_time(mtime));
        zip.start_file(entry.name.as_str(), options)?;
        io::copy(&mut open(&entry.source)?, &mut zip)?;
    }
    zip.finish()?.flush()?;
    Ok(())
}

fn open(path: &Path) -> Result<File> {
    File::open(path).with_context(|| format!("reading {}", path.display()))
}

/// A zip entry's time (local time in the format; UTC here, so the packer's time zone does not
/// change the bytes). Zip cannot say anything before 1980: such times become 1980-01-01.
fn dos_time(epoch: u64) -> DateTime {
    let days = (epoch / 86_400) as i64;
    let second_of_day = epoch % 86_400;
    let (year, month, day) = civil_from_days(days);
    let (hour, minute, second) = (second_of_day / 3600, second_of_day / 60 % 60, second_of_day % 60);
    u16::try_from(year)
        .ok()
        .and_then(|year| DateTime::from_date_and_time(year, month, day, hour as u8, minute as u8, second as u8).ok())
        .unwrap_or_default()
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn fixture(dir: &Path) -> Vec<Entry> {
        std::fs::create_dir_all(dir.join("man")).unwrap();
        let file = |name: &str, body: &str, mode: u32| {
            let source = dir.join(name);
            std::fs::write(&source, body).unwrap();
            Entry { name: name.to_owned(), source, mode }
        };
        // Out of order on purpose: the archive sorts.
        vec![
            file("man/kubectl-pxtoken.1", ".TH\n", 0o644),
            file("kubectl_complete-pxtoken", "#!companion\n", 0o755),
            file("kubectl-pxtoken", "#!plugin\n", 0o755),
            file("LICENSE", "Apache License\n", 0o644),
        ]
    }

    const SORTED: [&str; 4] = ["LICENSE", "kubectl-pxtoken", "kubectl_complete-pxtoken", "man/kubectl-pxtoken.1"];

    #[test]
    fn tarballs_are_sorted_owned_by_root_stamped_once_and_the_same_bytes_twice() {
        let dir = tempfile::tempdir().unwrap();
        let entries = fixture(&dir.path().join("src"));
        let (a, b) = (dir.path().join("a.tar.gz"), dir.path().join("b.tar.gz"));
        write(&entries, 1_796_004_025, &a).unwrap();
        write(&entries, 1_796_004_025, &b).unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());

        let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(File::open(&a).unwrap()));
        let mut seen = Vec::new();
        for entry in tar.entries().unwrap() {
            let mut entry = entry.unwrap();
            let header = entry.header();
            let name = entry.path().unwrap().to_string_lossy().into_owned();
            assert_eq!((header.uid().unwrap(), header.gid().unwrap()), (0, 0), "{name}");
            assert_eq!(header.username().unwrap(), Some(""), "{name}");
            assert_eq!(header.mtime().unwrap(), 1_796_004_025, "{name}");
            assert!(header.as_ustar().is_some(), "{name}");
            let mode = if name.starts_with("kubectl") { 0o755 } else { 0o644 };
            assert_eq!(header.mode().unwrap(), mode, "{name}");
            let mut body = String::new();
            entry.read_to_string(&mut body).unwrap();
            if name == "LICENSE" {
                assert_eq!(body, "Apache License\n");
            }
            seen.push(name);
        }
        assert_eq!(seen, SORTED);

        write(&entries, 1_796_004_026, &b).unwrap();
        assert_ne!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap(), "the mtime is in the archive");
    }

    #[test]
    fn zips_are_sorted_with_unix_modes_a_utc_time_and_the_same_bytes_twice() {
        let dir = tempfile::tempdir().unwrap();
        let entries = fixture(&dir.path().join("src"));
        let (a, b) = (dir.path().join("a.zip"), dir.path().join("b.zip"));
        write(&entries, 1_796_004_025, &a).unwrap();
        write(&entries, 1_796_004_025, &b).unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());

        let mut zip = zip::ZipArchive::new(File::open(&a).unwrap()).unwrap();
        let mut names = Vec::new();
        for index in 0..zip.len() {
            let mut file = zip.by_index(index).unwrap();
            let name = file.name().unwrap().into_owned();
            let mode = if name.starts_with("kubectl") { 0o755 } else { 0o644 };
            assert_eq!(file.unix_mode().map(|m| m & 0o777), Some(mode), "{name}");
            assert_eq!(file.compression(), CompressionMethod::Deflated);
            // 2026-11-30 02:00:25 UTC; zip keeps even seconds.
            let time = file.last_modified().unwrap();
            assert_eq!(
                (time.year(), time.month(), time.day(), time.hour(), time.minute(), time.second()),
                (2026, 11, 30, 2, 0, 24)
            );
            let mut body = String::new();
            file.read_to_string(&mut body).unwrap();
            assert!(body.ends_with('\n'));
            names.push(name);
        }
        assert_eq!(names, SORTED);
    }

    #[test]
    fn dates_before_1980_become_the_first_day_zip_can_say() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_787), (2026, 11, 30));
        assert_eq!(dos_time(0), DateTime::default());
        let time = dos_time(315_532_800 + 86_399); // 1980-01-01 23:59:59
        assert_eq!((time.year(), time.month(), time.day(), time.hour(), time.second()), (1980, 1, 1, 23, 58));
    }
}
