"""g.save and the file system (issue 11 item 10): the old file's mode is kept, new files follow the
umask, only regular files are replaced (a FIFO, a device or a directory is a GraphError and stays),
a symbolic link is followed (its target is replaced, the link stays), a killed save's temporary file
is removed by the next save of that path, and a bad path is a GraphError, not OSError/ValueError."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
import textwrap

import pytest

import revgraph as rg
from revgraph.ir import serialize


@pytest.fixture
def graph():
    g = rg.Graph("paths")
    x = g.input("x")
    g.outputs = (x * 2.0).rename("y")
    return g


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_an_existing_file_keeps_its_mode(tmp_path, graph):
    path = tmp_path / "g.json"
    graph.save(path)
    for bits in (0o640, 0o604, 0o755):
        os.chmod(path, bits)
        graph.save(path)
        assert mode(path) == bits


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_a_new_file_follows_the_umask(tmp_path, graph, umask):
    old = os.umask(umask)
    try:
        graph.save(tmp_path / "g.json")
    finally:
        os.umask(old)
    assert mode(tmp_path / "g.json") == 0o666 & ~umask


def test_a_fifo_is_refused_and_left_alone(tmp_path, graph):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(rg.GraphError, match="a FIFO .* is there, not a regular file"):
        graph.save(fifo)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    with pytest.raises(rg.GraphError, match="a FIFO"):
        rg.load(fifo)  # and loading does not wait for a writer
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def test_a_character_device_is_refused_and_left_alone(tmp_path, graph):
    # A null device node of our own (as root): a save that replaced it must never touch the real /dev/null.
    # Without the privilege to make one, /dev/null itself is safe: no unprivileged save can replace it.
    device = tmp_path / "null"
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        device = os.devnull
    with pytest.raises(rg.GraphError, match="a character device is there"):
        graph.save(device)
    assert stat.S_ISCHR(os.lstat(device).st_mode)


def test_a_directory_is_refused(tmp_path, graph):
    (tmp_path / "d").mkdir()
    with pytest.raises(rg.GraphError, match="a directory is there"):
        graph.save(tmp_path / "d")
    assert (tmp_path / "d").is_dir()


def test_a_symlink_is_followed_and_stays_a_link(tmp_path, graph):
    target = tmp_path / "real.json"
    target.write_text("old")
    os.chmod(target, 0o640)
    link = tmp_path / "link.json"
    link.symlink_to(target)
    graph.save(link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert "y" in rg.load(target) and mode(target) == 0o640
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(tmp_path / "new.json")
    graph.save(dangling)  # as open(path, "w") would: the file the link names is made
    assert dangling.is_symlink() and "y" in rg.load(tmp_path / "new.json")


@pytest.mark.parametrize("bad, match", [
    ("missing/g.json", "does not exist"),
    ("a\0b.json", "NUL"),
    ("", "non-empty"),
])
def test_bad_paths_are_graph_errors(tmp_path, graph, bad, match):
    with pytest.raises(rg.GraphError, match=match):
        graph.save(os.path.join(tmp_path, bad) if bad else bad)


def test_a_path_of_the_wrong_type_is_a_graph_error(graph):
    with pytest.raises(rg.GraphError, match="give a path"):
        graph.save(3)


def test_permission_denied_is_a_graph_error(tmp_path, graph, monkeypatch):
    real_open = serialize.os.open

    def denied(path, *args, **kwargs):
        if ".rgsave-" in os.fspath(path):
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(serialize.os, "open", denied)  # (as root, a read-only folder does not refuse)
    with pytest.raises(rg.GraphError, match="Permission denied"):
        graph.save(tmp_path / "g.json")
    assert list(tmp_path.iterdir()) == []


def test_a_killed_save_leaves_a_temp_file_the_next_save_removes(tmp_path, graph):
    path = tmp_path / "g.json"
    graph.save(path)
    before = path.read_bytes()
    script = textwrap.dedent(f"""
        import os, revgraph as rg
        from revgraph.ir import serialize
        g = rg.load({str(path)!r})
        real_replace = os.replace
        def killed(*args):  # the process dies after writing the temporary file, before the rename
            os._exit(9)
        serialize.os.replace = killed
        g.save({str(path)!r})
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 9, proc.stderr
    left = [p.name for p in tmp_path.iterdir() if p.name != "g.json"]
    assert len(left) == 1 and left[0].startswith(".g.json.rgsave-") and left[0].endswith(".tmp")
    assert path.read_bytes() == before, "the old file is untouched"
    graph.save(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.json"], "the leftover was removed"


def test_a_running_saver_s_temp_file_is_left_alone(tmp_path, graph):
    live = tmp_path / f".g.json.rgsave-{os.getpid()}-0000.tmp"  # ours: a thread may be writing it
    live.write_text("in progress")
    graph.save(tmp_path / "g.json")
    assert live.exists()


def test_a_long_file_name_gets_a_short_temp_name(tmp_path, graph):
    path = tmp_path / ("n" * 250 + ".json")[:250]
    graph.save(path)
    assert "y" in rg.load(path)
