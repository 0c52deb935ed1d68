//! One part of a backup (the instance's rows, or one workplace's) as a file: framed postcard
//! rows, deflate-compressed, then encrypted as an age stream. The last frame lists every table
//! with its row count and a digest of its rows, so a reader knows it saw everything.

use std::{
    fs::File,
    io::{self, BufReader, BufWriter, Read, Write},
    path::Path,
};

use flate2::{read::DeflateDecoder, write::DeflateEncoder, Compression};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::BackupError;

const MAGIC: &[u8; 16] = b"CANDOR-SEGMENT/1";
/// No row is anywhere near this; a larger length means a damaged frame, not a big row.
const MAX_FRAME: usize = 16 * 1024 * 1024;

const HEADER: u8 = b'H';
const TABLE: u8 = b'T';
const ROW: u8 = b'R';
const END: u8 = b'E';

/// What the segment belongs to; checked against the manifest when it is read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentHeader {
    pub backup_id: uuid::Uuid,
    pub workplace: Option<uuid::Uuid>,
}

/// A table as the segment holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableSummary {
    pub table: String,
    pub rows: u64,
    /// SHA-256 over the sorted SHA-256 of every row's bytes: independent of row order, so the
    /// same rows read back from another database (in another order) give the same digest.
    pub digest: [u8; 32],
}

/// Collects a table's row digests.
#[derive(Default)]
pub struct TableDigest {
    rows: Vec<[u8; 32]>,
}

impl TableDigest {
    pub fn add(&mut self, row: &[u8]) {
        self.rows.push(Sha256::digest(row).into());
    }

    pub fn finish(mut self, table: &str) -> TableSummary {
        self.rows.sort_unstable();
        let mut all = Sha256::new();
        for row in &self.rows {
            all.update(row);
        }
        TableSummary {
            table: table.to_owned(),
            rows: self.rows.len() as u64,
            digest: all.finalize().into(),
        }
    }
}

/// Counts and hashes the ciphertext as it goes to disk, for the manifest.
struct Hashing<W> {
    inner: W,
    hash: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

type Sink = DeflateEncoder<age::stream::StreamWriter<Hashing<BufWriter<File>>>>;

/// Writes one segment file.
pub struct SegmentWriter {
    out: Sink,
    tables: Vec<TableSummary>,
    current: Option<(String, TableDigest)>,
}

/// The written file, as the manifest records it.
#[derive(Clone, Debug)]
pub struct Written {
    pub bytes: u64,
    pub sha256: String,
}

impl SegmentWriter {
    pub fn create(
        path: &Path,
        recipient: &age::x25519::Recipient,
        header: &SegmentHeader,
    ) -> Result<Self, BackupError> {
        let file = File::create(path).map_err(|err| BackupError::write(path, err))?;
        let hashing = Hashing {
            inner: BufWriter::with_capacity(256 * 1024, file),
            hash: Sha256::new(),
            bytes: 0,
        };
        let encryptor = age::Encryptor::with_recipients(std::iter::once(recipient as &dyn age::Recipient))
            .map_err(|err| BackupError::Internal(format!("cannot set up encryption: {err}")))?;
        let encrypted = encryptor
            .wrap_output(hashing)
            .map_err(|err| BackupError::write(path, err))?;
        let mut writer = Self {
            out: DeflateEncoder::new(encrypted, Compression::fast()),
            tables: Vec::new(),
            current: None,
        };
        writer
            .out
            .write_all(MAGIC)
            .map_err(|err| BackupError::write(path, err))?;
        writer
            .frame(HEADER, &encode(header)?)
            .map_err(|err| BackupError::write(path, err))?;
        Ok(writer)
    }

    fn frame(&mut self, tag: u8, payload: &[u8]) -> io::Result<()> {
        let len = u32::try_from(payload.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame too large"))?;
        self.out.write_all(&[tag])?;
        self.out.write_all(&len.to_le_bytes())?;
        self.out.write_all(payload)
    }

    /// Starts `table` (closing the one before); `rows` is how many follow.
    pub fn start_table(&mut self, table: &str, rows: u64) -> io::Result<()> {
        self.close_table();
        let payload = postcard::to_allocvec(&(table, rows))
            .map_err(|err| io::Error::new(io::ErrorKind::InvalidData, err))?;
        self.frame(TABLE, &payload)?;
        self.current = Some((table.to_owned(), TableDigest::default()));
        Ok(())
    }

    pub fn row(&mut self, bytes: &[u8]) -> io::Result<()> {
        if let Some((_, digest)) = self.current.as_mut() {
            digest.add(bytes);
        }
        self.frame(ROW, bytes)
    }

    fn close_table(&mut self) {
        if let Some((table, digest)) = self.current.take() {
            self.tables.push(digest.finish(&table));
        }
    }

    /// Writes the closing frame, finishes compression and encryption and syncs the file.
    pub fn finish(mut self, path: &Path) -> Result<Written, BackupError> {
        self.close_table();
        let tables = std::mem::take(&mut self.tables);
        let payload = encode(&tables)?;
        self.frame(END, &payload)
            .map_err(|err| BackupError::write(path, err))?;
        let encrypted = self.out.finish().map_err(|err| BackupError::write(path, err))?;
        let mut hashing = encrypted.finish().map_err(|err| BackupError::write(path, err))?;
        hashing.flush().map_err(|err| BackupError::write(path, err))?;
        let Hashing { inner, hash, bytes } = hashing;
        let file = inner
            .into_inner()
            .map_err(|err| BackupError::write(path, err.into_error()))?;
        file.sync_all().map_err(|err| BackupError::write(path, err))?;
        Ok(Written {
            bytes,
            sha256: crate::platform::text::hex(&hash.finalize()),
        })
    }
}

/// What [`SegmentSender`] hands its writing thread.
enum ToWrite {
    Table {
        table: String,
        rows: u64,
    },
    Rows(Vec<Vec<u8>>),
    /// Everything was sent: close the segment. A channel closed without it (a backup that
    /// failed or was cancelled) leaves the file unfinished, never a complete-looking part.
    Finish,
}

/// Batches in flight between the database and a segment's thread, either way.
pub const BATCHES_IN_FLIGHT: usize = 4;

/// Rows moved between the database and a segment's thread at once: at most 2,000 rows or 8 MiB
/// (ballots are large), so a backup's or a restore's memory stays bounded.
#[derive(Default)]
pub struct RowBatch {
    rows: Vec<Vec<u8>>,
    bytes: usize,
}

impl RowBatch {
    const MOST_ROWS: usize = 2_000;
    const MOST_BYTES: usize = 8 * 1024 * 1024;

    /// Adds a row; true once the batch is full and should go.
    pub fn push(&mut self, row: Vec<u8>) -> bool {
        self.bytes += row.len();
        self.rows.push(row);
        self.rows.len() >= Self::MOST_ROWS || self.bytes >= Self::MOST_BYTES
    }

    /// The rows gathered so far, if any, leaving the batch empty.
    pub fn take(&mut self) -> Option<Vec<Vec<u8>>> {
        self.bytes = 0;
        (!self.rows.is_empty()).then(|| std::mem::take(&mut self.rows))
    }
}

/// A [`SegmentWriter`] on a thread of its own: compressing, encrypting and writing the file run
/// beside the database reads, never on the async runtime's threads (a scheduled backup shares
/// them with the requests being served).
pub struct SegmentSender {
    send: tokio::sync::mpsc::Sender<ToWrite>,
    batch: RowBatch,
    /// None once awaited (after the thread stopped early).
    writing: Option<tokio::task::JoinHandle<Result<Written, BackupError>>>,
}

impl SegmentSender {
    pub fn create(
        path: &Path,
        recipient: &age::x25519::Recipient,
        header: &SegmentHeader,
    ) -> Result<Self, BackupError> {
        let mut writer = SegmentWriter::create(path, recipient, header)?;
        let (send, mut received) = tokio::sync::mpsc::channel(BATCHES_IN_FLIGHT);
        let path = path.to_owned();
        let writing = tokio::task::spawn_blocking(move || {
            while let Some(item) = received.blocking_recv() {
                match item {
                    ToWrite::Table { table, rows } => writer.start_table(&table, rows),
                    ToWrite::Rows(rows) => rows.iter().try_for_each(|row| writer.row(row)),
                    ToWrite::Finish => return writer.finish(&path),
                }
                .map_err(|err| BackupError::write(&path, err))?;
            }
            Err(BackupError::Internal(
                "the backup stopped before its part was complete".into(),
            ))
        });
        Ok(Self {
            send,
            batch: RowBatch::default(),
            writing: Some(writing),
        })
    }

    /// Starts `table`; `rows` is how many follow.
    pub async fn start_table(&mut self, table: &str, rows: u64) -> Result<(), BackupError> {
        self.flush().await?;
        self.hand(ToWrite::Table {
            table: table.to_owned(),
            rows,
        })
        .await
    }

    pub async fn row(&mut self, bytes: Vec<u8>) -> Result<(), BackupError> {
        if self.batch.push(bytes) {
            self.flush().await?;
        }
        Ok(())
    }

    /// Writes what is left and the closing frame, and syncs the file.
    pub async fn finish(mut self) -> Result<Written, BackupError> {
        self.flush().await?;
        self.hand(ToWrite::Finish).await?;
        self.stopped().await
    }

    async fn flush(&mut self) -> Result<(), BackupError> {
        match self.batch.take() {
            Some(rows) => self.hand(ToWrite::Rows(rows)).await,
            None => Ok(()),
        }
    }

    async fn hand(&mut self, item: ToWrite) -> Result<(), BackupError> {
        if self.send.send(item).await.is_ok() {
            return Ok(());
        }
        // The thread stopped at an error (a full disk, say): that error is the one to report.
        match self.stopped().await {
            Err(err) => Err(err),
            Ok(_) => Err(BackupError::Internal("the writing thread ended early".into())),
        }
    }

    /// Waits for the writing thread's result (once; later calls report that it is gone).
    async fn stopped(&mut self) -> Result<Written, BackupError> {
        let writing = self
            .writing
            .take()
            .ok_or_else(|| BackupError::Internal("the writing thread already stopped".into()))?;
        writing
            .await
            .map_err(|err| BackupError::Internal(format!("the writing thread stopped: {err}")))?
    }
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, BackupError> {
    postcard::to_allocvec(value).map_err(|err| BackupError::Internal(format!("cannot encode: {err}")))
}

/// Size and SHA-256 of a file as it lies on disk.
pub fn file_checksum(path: &Path) -> Result<(u64, String), BackupError> {
    let mut file = File::open(path).map_err(|err| BackupError::read(path, err))?;
    let mut hash = Sha256::new();
    let mut buffer = vec![0u8; 256 * 1024];
    let mut bytes = 0u64;
    loop {
        let n = file
            .read(&mut buffer)
            .map_err(|err| BackupError::read(path, err))?;
        if n == 0 {
            break;
        }
        hash.update(&buffer[..n]);
        bytes += n as u64;
    }
    Ok((bytes, crate::platform::text::hex(&hash.finalize())))
}

/// One item read from a segment.
pub enum Item {
    Table { table: String, rows: u64 },
    Row(Vec<u8>),
    End(Vec<TableSummary>),
}

/// Reads one segment file; every error names the file.
pub struct SegmentReader {
    input: DeflateDecoder<age::stream::StreamReader<BufReader<File>>>,
    pub header: SegmentHeader,
    file: String,
    ended: bool,
}

impl SegmentReader {
    pub fn open(path: &Path, identity: &age::x25519::Identity) -> Result<Self, BackupError> {
        let name = path.display().to_string();
        let file = File::open(path).map_err(|err| BackupError::read(path, err))?;
        let decryptor = age::Decryptor::new(BufReader::with_capacity(256 * 1024, file)).map_err(|err| {
            BackupError::Corrupt {
                file: name.clone(),
                reason: format!("not an age file ({err})"),
            }
        })?;
        let decrypted = decryptor
            .decrypt(std::iter::once(identity as &dyn age::Identity))
            .map_err(|err| match err {
                age::DecryptError::NoMatchingKeys => BackupError::WrongIdentity { file: name.clone() },
                other => BackupError::Corrupt {
                    file: name.clone(),
                    reason: other.to_string(),
                },
            })?;
        let mut input = DeflateDecoder::new(decrypted);
        let mut magic = [0u8; 16];
        input
            .read_exact(&mut magic)
            .map_err(|err| corrupt_io(&name, err))?;
        if &magic != MAGIC {
            return Err(BackupError::Corrupt {
                file: name,
                reason: "not a Candor backup segment".into(),
            });
        }
        let mut reader = Self {
            input,
            header: SegmentHeader {
                backup_id: uuid::Uuid::nil(),
                workplace: None,
            },
            file: name,
            ended: false,
        };
        let (tag, payload) = reader.frame()?;
        if tag != HEADER {
            return Err(reader.corrupt("the segment does not start with its header"));
        }
        reader.header = reader.decode(&payload)?;
        Ok(reader)
    }

    fn corrupt(&self, reason: &str) -> BackupError {
        BackupError::Corrupt {
            file: self.file.clone(),
            reason: reason.to_owned(),
        }
    }

    fn decode<T: for<'de> Deserialize<'de>>(&self, payload: &[u8]) -> Result<T, BackupError> {
        postcard::from_bytes(payload).map_err(|err| self.corrupt(&format!("a frame does not decode ({err})")))
    }

    fn frame(&mut self) -> Result<(u8, Vec<u8>), BackupError> {
        let mut head = [0u8; 5];
        self.input
            .read_exact(&mut head)
            .map_err(|err| corrupt_io(&self.file, err))?;
        let len = u32::from_le_bytes([head[1], head[2], head[3], head[4]]) as usize;
        if len > MAX_FRAME {
            return Err(self.corrupt("a frame is impossibly long"));
        }
        let mut payload = vec![0u8; len];
        self.input
            .read_exact(&mut payload)
            .map_err(|err| corrupt_io(&self.file, err))?;
        Ok((head[0], payload))
    }

    /// The next item; after [`Item::End`] the segment must be over.
    pub fn next_item(&mut self) -> Result<Item, BackupError> {
        if self.ended {
            return Err(self.corrupt("read past the end"));
        }
        let (tag, payload) = self.frame()?;
        match tag {
            TABLE => {
                let (table, rows): (String, u64) = self.decode(&payload)?;
                Ok(Item::Table { table, rows })
            }
            ROW => Ok(Item::Row(payload)),
            END => {
                let tables: Vec<TableSummary> = self.decode(&payload)?;
                let mut rest = [0u8; 1];
                match self.input.read(&mut rest) {
                    Ok(0) => {}
                    Ok(_) => return Err(self.corrupt("data follows the closing frame")),
                    Err(err) => return Err(corrupt_io(&self.file, err)),
                }
                self.ended = true;
                Ok(Item::End(tables))
            }
            _ => Err(self.corrupt("unknown frame")),
        }
    }
}

fn corrupt_io(file: &str, err: io::Error) -> BackupError {
    let reason = if err.kind() == io::ErrorKind::UnexpectedEof {
        "it ends early (truncated)".to_owned()
    } else {
        format!("it does not decrypt or decompress ({err})")
    };
    BackupError::Corrupt {
        file: file.to_owned(),
        reason,
    }
}
