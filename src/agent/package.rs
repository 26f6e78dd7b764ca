//! The vendor's system packages as agent distributions: a `.deb` (an `ar` archive whose
//! `data.tar.{gz,xz,zst}` member holds the files) and an `.rpm` (a lead, two headers, then a
//! cpio payload, usually xz- or zstd-compressed). The containers are read here, gzip is decoded
//! in-process; xz, zstd and bzip2 are decoded by the host's own `xz` / `zstd` / `bzip2` (by
//! absolute path, an argument vector, never a shell): decoders of our own would cost the binary
//! much of its size budget, and every host that makes these packages has the tools.

use crate::error::{Error, Result};
use crate::msg;
use std::fs;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};

/// Where a package's file tree starts in the package file; `len` None: to the end.
pub struct Payload {
    offset: u64,
    len: Option<u64>,
}

fn damaged(archive: &Path, why: impl std::fmt::Display) -> Error {
    super::unpack::damaged(archive, why)
}

fn read_at(file: &mut fs::File, archive: &Path, offset: u64, buf: &mut [u8]) -> Result<()> {
    file.seek(SeekFrom::Start(offset))
        .and_then(|_| file.read_exact(buf))
        .map_err(|e| damaged(archive, e))
}

/// The `data.tar.*` member of a `.deb` (`ar`: an 8-byte magic, then 60-byte member headers,
/// each member padded to an even length).
pub fn deb_data(archive: &Path) -> Result<Payload> {
    let mut file = fs::File::open(archive).map_err(|e| Error::io(archive, e))?;
    let size = file.metadata().map_err(|e| Error::io(archive, e))?.len();
    let mut offset = 8;
    while offset + 60 <= size {
        let mut header = [0u8; 60];
        read_at(&mut file, archive, offset, &mut header)?;
        if &header[58..] != b"`\n" {
            return Err(damaged(archive, "a broken ar member header"));
        }
        let name = String::from_utf8_lossy(&header[..16]);
        let len: u64 = String::from_utf8_lossy(&header[48..58])
            .trim()
            .parse()
            .map_err(|_| damaged(archive, "a broken ar member size"))?;
        offset += 60;
        if name
            .trim_end()
            .trim_end_matches('/')
            .starts_with("data.tar")
        {
            return Ok(Payload {
                offset,
                len: Some(len),
            });
        }
        offset += len + len % 2;
    }
    Err(damaged(archive, "no data.tar member"))
}

/// The payload of an `.rpm`: after the 96-byte lead, the signature header (padded to 8 bytes)
/// and the main header, each a 16-byte intro, 16 bytes per index entry and its data store.
pub fn rpm_payload(archive: &Path) -> Result<Payload> {
    let mut file = fs::File::open(archive).map_err(|e| Error::io(archive, e))?;
    let mut offset = 96;
    for padded in [true, false] {
        let mut intro = [0u8; 16];
        read_at(&mut file, archive, offset, &mut intro)?;
        if intro[..3] != [0x8e, 0xad, 0xe8] {
            return Err(damaged(archive, "a broken rpm header"));
        }
        let word = |at: usize| {
            u64::from(u32::from_be_bytes([
                intro[at],
                intro[at + 1],
                intro[at + 2],
                intro[at + 3],
            ]))
        };
        let (entries, store) = (word(8), word(12));
        let mut len = 16 + 16 * entries + store;
        if padded {
            len = len.div_ceil(8) * 8;
        }
        offset += len;
    }
    Ok(Payload { offset, len: None })
}

/// The package's file tree (a tar or a cpio stream), decompressed.
pub fn decoded(archive: &Path, payload: &Payload) -> Result<Box<dyn Read>> {
    let mut file = fs::File::open(archive).map_err(|e| Error::io(archive, e))?;
    file.seek(SeekFrom::Start(payload.offset))
        .map_err(|e| damaged(archive, e))?;
    let mut raw: Box<dyn Read + Send> = match payload.len {
        Some(len) => Box::new(file.take(len)),
        None => Box::new(file),
    };
    let mut magic = Vec::with_capacity(6);
    (&mut raw)
        .take(6)
        .read_to_end(&mut magic)
        .map_err(|e| damaged(archive, e))?;
    let tool = match magic.as_slice() {
        [0x1f, 0x8b, ..] => {
            let whole = io::Cursor::new(magic).chain(raw);
            return Ok(Box::new(flate2::read::MultiGzDecoder::new(whole)));
        }
        [0xfd, b'7', b'z', b'X', b'Z', 0] => ("xz", "xz-utils", "xz"),
        [0x28, 0xb5, 0x2f, 0xfd, ..] => ("zstd", "zstd", "zstd"),
        [b'B', b'Z', b'h', ..] => ("bzip2", "bzip2", "bzip2"),
        _ => return Ok(Box::new(io::Cursor::new(magic).chain(raw))),
    };
    let (name, debian, rhel) = tool;
    let program = crate::os::system_program(name).ok_or_else(|| {
        Error::usage(
            msg!(
                "agent-package-tool-missing",
                path = archive.display(),
                tool = name
            ),
            msg!(
                "agent-package-tool-missing-hint",
                debian = debian,
                rhel = rhel
            ),
        )
    })?;
    External::spawn(&program, Box::new(io::Cursor::new(magic).chain(raw)))
        .map(|d| Box::new(d) as Box<dyn Read>)
        .map_err(|e| Error::io(&program, e))
}

/// `TOOL -dc`: the compressed stream goes in on stdin from a thread, the plain one is read
/// from stdout; at its end the tool's exit status (and stderr) says whether it was whole.
struct External {
    program: PathBuf,
    child: Child,
    stdout: ChildStdout,
}

impl External {
    fn spawn(program: &Path, mut input: Box<dyn Read + Send>) -> io::Result<External> {
        let mut child = Command::new(program)
            .arg("-dc")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let mut stdin = child
            .stdin
            .take()
            .ok_or_else(|| io::Error::other("no stdin"))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| io::Error::other("no stdout"))?;
        // A reader that stops early kills the tool: the copy then ends with a broken pipe.
        std::thread::spawn(move || io::copy(&mut input, &mut stdin));
        Ok(External {
            program: program.to_path_buf(),
            child,
            stdout,
        })
    }
}

impl Read for External {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.stdout.read(buf)?;
        if n == 0 && !buf.is_empty() {
            let mut said = String::new();
            if let Some(mut stderr) = self.child.stderr.take() {
                let _ = stderr.read_to_string(&mut said);
            }
            let status = self.child.wait()?;
            if !status.success() {
                let said = said.trim().lines().last().unwrap_or_default().to_string();
                return Err(io::Error::other(format!(
                    "{} -dc: {status}: {said}",
                    self.program.display()
                )));
            }
        }
        Ok(n)
    }
}

impl Drop for External {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// One entry of a cpio "newc" stream (what rpm writes): `070701`, thirteen 8-digit hex fields,
/// the name (NUL-terminated), the data; name and data each padded to 4 bytes.
pub struct CpioEntry {
    pub name: String,
    pub mode: u32,
    pub nlink: u32,
    pub size: u64,
}

/// Reads the next entry's header and name; None at the `TRAILER!!!`.
pub fn cpio_next(stream: &mut dyn Read, archive: &Path) -> Result<Option<CpioEntry>> {
    let mut header = [0u8; 110];
    stream
        .read_exact(&mut header)
        .map_err(|e| damaged(archive, e))?;
    if &header[..6] != b"070701" && &header[..6] != b"070702" {
        return Err(damaged(archive, "not a cpio (newc) payload"));
    }
    let field = |i: usize| -> Result<u32> {
        let text = std::str::from_utf8(&header[6 + 8 * i..14 + 8 * i]).unwrap_or("");
        u32::from_str_radix(text, 16).map_err(|_| damaged(archive, "a broken cpio header"))
    };
    let (mode, nlink, size, name_len) = (field(1)?, field(4)?, field(6)?, field(11)?);
    if name_len == 0 || name_len > 4096 {
        return Err(damaged(archive, "a broken cpio name"));
    }
    let mut name = vec![0u8; name_len as usize];
    stream
        .read_exact(&mut name)
        .map_err(|e| damaged(archive, e))?;
    skip_padding(stream, archive, 110 + u64::from(name_len))?;
    if name.last() == Some(&0) {
        name.pop();
    }
    let name = String::from_utf8_lossy(&name).into_owned();
    if name == "TRAILER!!!" {
        return Ok(None);
    }
    Ok(Some(CpioEntry {
        name,
        mode,
        nlink,
        size: u64::from(size),
    }))
}

/// Skips the bytes that pad `len` bytes to a multiple of 4.
pub fn skip_padding(stream: &mut dyn Read, archive: &Path, len: u64) -> Result<()> {
    let pad = (4 - len % 4) % 4;
    io::copy(&mut stream.take(pad), &mut io::sink()).map_err(|e| damaged(archive, e))?;
    Ok(())
}
