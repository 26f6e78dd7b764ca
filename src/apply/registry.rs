//! Registry values under `HKLM` (Windows only): read exactly (type and bytes), and written by
//! `apply` only while they still hold what the plan was made against. Other builds see no
//! registry: nothing is found there and nothing can be written.

use crate::error::{Error, Result};
use crate::msg;
use crate::plan::{RegChange, RegValue};

/// Writes `change.after` (deleting the value for None) while the value is still
/// `change.before`; refused, changing nothing, when it is not.
pub fn write(change: &RegChange) -> Result<()> {
    set(change, change.before.as_ref(), change.after.as_ref())
}

/// Puts `change.before` back while the value is still what `write` set (a rollback).
pub fn take_back(change: &RegChange) -> Result<()> {
    set(change, change.after.as_ref(), change.before.as_ref())
}

fn set(change: &RegChange, from: Option<&RegValue>, to: Option<&RegValue>) -> Result<()> {
    let now = read(&change.key, &change.name)?;
    if now.as_ref() != from {
        return Err(Error::refused(
            msg!("apply-registry-changed", value = change.display()),
            msg!("apply-registry-changed-hint"),
        ));
    }
    if now.as_ref() == to {
        return Ok(());
    }
    sys::set(&change.key, &change.name, to).map_err(|e| Error::io(change.display(), e))?;
    crate::apply::checkpoint::step("apply: registry value set")
}

/// The value `name` of `key` (`HKLM\...`); None when the key or the value is absent.
pub fn read(key: &str, name: &str) -> Result<Option<RegValue>> {
    sys::read(key, name).map_err(|e| Error::io(format!("{key}\\{name}"), e))
}

/// The names of `key`'s subkeys, sorted; none when it is absent.
pub fn subkeys(key: &str) -> Vec<String> {
    let mut names = sys::subkeys(key).unwrap_or_default();
    names.sort();
    names
}

#[cfg(windows)]
mod sys {
    use crate::plan::RegValue;
    use std::io;
    use windows_sys::Win32::Foundation::{
        ERROR_FILE_NOT_FOUND, ERROR_MORE_DATA, ERROR_NO_MORE_ITEMS, ERROR_SUCCESS,
    };
    use windows_sys::Win32::System::Registry::{
        HKEY, HKEY_LOCAL_MACHINE, KEY_READ, KEY_SET_VALUE, KEY_WOW64_64KEY, RegCloseKey,
        RegDeleteValueW, RegEnumKeyExW, RegOpenKeyExW, RegQueryValueExW, RegSetValueExW,
    };

    /// `HKLM\<path>`: the path under HKEY_LOCAL_MACHINE; None for another hive.
    fn under_hklm(key: &str) -> Option<&str> {
        key.strip_prefix("HKLM\\")
    }

    fn wide(s: &str) -> Vec<u16> {
        s.encode_utf16().chain([0]).collect()
    }

    fn check(code: u32) -> io::Result<()> {
        match code {
            ERROR_SUCCESS => Ok(()),
            code => Err(io::Error::from_raw_os_error(code as i32)),
        }
    }

    /// An open key, closed when dropped.
    struct Key(HKEY);

    impl Drop for Key {
        fn drop(&mut self) {
            // SAFETY: the handle was opened by RegOpenKeyExW and is closed once.
            unsafe { RegCloseKey(self.0) };
        }
    }

    /// `key` opened for `access`, in the 64-bit view (WOW6432Node is named in the path);
    /// None when it does not exist.
    fn open(key: &str, access: u32) -> io::Result<Option<Key>> {
        let path = under_hklm(key).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "only HKLM keys are supported")
        })?;
        let mut handle: HKEY = std::ptr::null_mut();
        let path = wide(path);
        // SAFETY: `path` is NUL-terminated and `handle` a valid out pointer.
        let code = unsafe {
            RegOpenKeyExW(
                HKEY_LOCAL_MACHINE,
                path.as_ptr(),
                0,
                access | KEY_WOW64_64KEY,
                &mut handle,
            )
        };
        if code == ERROR_FILE_NOT_FOUND {
            return Ok(None);
        }
        check(code)?;
        Ok(Some(Key(handle)))
    }

    pub fn read(key: &str, name: &str) -> io::Result<Option<RegValue>> {
        let Some(key) = open(key, KEY_READ)? else {
            return Ok(None);
        };
        let name = wide(name);
        let mut data = vec![0u8; 512];
        loop {
            let (mut kind, mut len) = (0u32, data.len() as u32);
            // SAFETY: `data` holds `len` bytes; the other pointers are valid out pointers.
            let code = unsafe {
                RegQueryValueExW(
                    key.0,
                    name.as_ptr(),
                    std::ptr::null(),
                    &mut kind,
                    data.as_mut_ptr(),
                    &mut len,
                )
            };
            match code {
                ERROR_FILE_NOT_FOUND => return Ok(None),
                ERROR_MORE_DATA => data.resize(len as usize, 0),
                code => {
                    check(code)?;
                    data.truncate(len as usize);
                    return Ok(Some(RegValue { kind, data }));
                }
            }
        }
    }

    pub fn set(key: &str, name: &str, value: Option<&RegValue>) -> io::Result<()> {
        let key =
            open(key, KEY_SET_VALUE)?.ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))?;
        let name = wide(name);
        // SAFETY: `name` is NUL-terminated; `data` is the value's own buffer and length.
        let code = match value {
            Some(value) => unsafe {
                RegSetValueExW(
                    key.0,
                    name.as_ptr(),
                    0,
                    value.kind,
                    value.data.as_ptr(),
                    value.data.len() as u32,
                )
            },
            None => unsafe { RegDeleteValueW(key.0, name.as_ptr()) },
        };
        check(code)
    }

    pub fn subkeys(key: &str) -> io::Result<Vec<String>> {
        let Some(key) = open(key, KEY_READ)? else {
            return Ok(Vec::new());
        };
        let mut names = Vec::new();
        for index in 0.. {
            // Key names are at most 255 characters.
            let mut name = [0u16; 256];
            let mut len = name.len() as u32;
            // SAFETY: `name` holds `len` UTF-16 units; the optional pointers are null.
            let code = unsafe {
                RegEnumKeyExW(
                    key.0,
                    index,
                    name.as_mut_ptr(),
                    &mut len,
                    std::ptr::null(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                )
            };
            if code == ERROR_NO_MORE_ITEMS {
                break;
            }
            check(code)?;
            names.push(String::from_utf16_lossy(&name[..len as usize]));
        }
        Ok(names)
    }
}

#[cfg(not(windows))]
mod sys {
    use crate::plan::RegValue;
    use std::io;

    pub fn read(_key: &str, _name: &str) -> io::Result<Option<RegValue>> {
        Ok(None)
    }

    pub fn set(_key: &str, _name: &str, _value: Option<&RegValue>) -> io::Result<()> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "the Windows registry exists only on Windows",
        ))
    }

    pub fn subkeys(_key: &str) -> io::Result<Vec<String>> {
        Ok(Vec::new())
    }
}
