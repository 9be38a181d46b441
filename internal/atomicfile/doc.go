// Package atomicfile replaces files so that a reader, a crash or a second
// writer only ever sees the old file or the new one, and commits many such
// replacements with one durability barrier per batch.
//
// A Committer creates each new file under a fresh temporary name next to
// its target (O_EXCL, readable and writable by its owner only), the caller
// writes it and queues it, and Commit then makes every queued file of a
// file system durable with one barrier, gives each the metadata it was
// asked to keep (owner, group, mode with its set-ID bits, extended
// attributes such as ACLs) and renames it over its target. The target's
// old inode is never written to: a descriptor opened on it before keeps
// reading the whole old file. Close ends the run with a last barrier that
// makes the renames durable.
//
// A barrier error fails every file whose writes it may have covered: the
// files queued on that file system and those still being written there,
// each reported with the error and its target left untouched.
//
// # Crash ordering
//
// Each file goes through: create (O_EXCL, owner-only), write, barrier,
// owner, extended attributes, mode (last, so that set-ID bits survive the
// writes and the chown), rename. A process killed at any point leaves its
// targets old or new and temporary files that are either owner-only or a
// complete, durable copy with its target's metadata (killed between the
// chmod and the rename): never content readable by anyone its target does
// not let read it. After a power loss:
//
//   - Linux: the barrier made the data and the temporary inodes durable
//     before any of them got its metadata; on a journaled file system the
//     chmod and the rename commit in that order, so a renamed file has its
//     metadata; without a journal a renamed file may come back owner-only
//     (narrower, never wider). Renames not yet covered by a barrier may be
//     undone: the target is then old.
//   - macOS and the BSDs: fsync(file), metadata, rename, fsync(directory);
//     the metadata is not synced on its own, so a renamed file may come
//     back owner-only.
//   - Windows: flush, read-only bit, close, rename; the last renames may be
//     lost (the target is old).
//
// # Guarantees by system
//
//   - Linux: the barrier is one syncfs(2) per file system and batch, on one
//     descriptor per file system opened before the first file there is
//     written, so a writeback error cannot be missed between batches.
//     Extended attributes (system.posix_acl_access, user.*, security.*,
//     and trusted.* for root) are copied; one that cannot be set fails the
//     file. The renames are durable when Close returns.
//   - macOS and the BSDs: each file is fsynced before its rename and its
//     directory after it. fsync on macOS does not flush the drive's cache
//     (F_FULLFSYNC would). On macOS extended attributes are copied as on
//     Linux; the BSDs have none here.
//   - Windows: each file is flushed (FlushFileBuffers) and closed before it
//     is renamed; a directory cannot be synced, so the last renames may be
//     lost in a crash (each file is then its old or its new self). The mode
//     keeps only the read-only bit; there is no owner or extended attribute.
//
// On every system the old-or-new rule holds only within one directory on a
// local file system with an atomic rename (not across mount points, and
// not on NFS with several clients writing the same files).
package atomicfile
