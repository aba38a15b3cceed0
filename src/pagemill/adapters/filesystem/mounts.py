"""Is a directory on a network file system? (Then no file operation may run on the event loop.)

On a local disk a small write lands in the page cache in microseconds, less than a hop to a
thread costs; on NFS or SMB the same ``open``/``rename`` is a round trip to a server that may be
slow or gone, and an event loop waiting on it stalls every request of the process.
"""

from __future__ import annotations

import os
from pathlib import Path

MOUNTINFO = Path("/proc/self/mountinfo")

# File system types whose operations may wait on a network (or a user-space daemon).
NETWORK_TYPES = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb3",
        "smbfs",
        "ceph",
        "glusterfs",
        "9p",
        "afs",
        "lustre",
        "gpfs",
        "beegfs",
        "ocfs2",
        "gfs2",
        "davfs",
        "sshfs",
    }
)


def filesystem_type(path: Path, mountinfo: str) -> str | None:
    """The type of the file system ``path`` is on, from ``/proc/self/mountinfo`` text."""
    best: tuple[int, str] | None = None
    target = str(path)
    for line in mountinfo.splitlines():
        fields = line.split()
        if " - " not in line or len(fields) < 5:
            continue
        mount_point = _unescape(fields[4])
        fs_type = line.split(" - ", 1)[1].split()[0]
        inside = target == mount_point or target.startswith(mount_point.rstrip("/") + "/")
        if inside and (best is None or len(mount_point) > best[0]):
            best = (len(mount_point), fs_type)
    return None if best is None else best[1]


def is_network_filesystem(path: Path) -> bool:
    """True when ``path`` is on a network (or FUSE) file system — or when that cannot be told
    (not Linux, ``/proc`` unreadable): the safe answer is "do not block on it"."""
    try:
        mountinfo = MOUNTINFO.read_text()
    except OSError:
        return True
    fs_type = filesystem_type(Path(os.path.realpath(path)), mountinfo)
    if fs_type is None:
        return True
    return fs_type in NETWORK_TYPES or fs_type.startswith("fuse")


def _unescape(field: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as octal (\\040 …).
    return (
        field.replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\")
    )
