// Nothing to import: the library only interposes fsync(2) and fdatasync(2) (see FsyncProbe.c).
