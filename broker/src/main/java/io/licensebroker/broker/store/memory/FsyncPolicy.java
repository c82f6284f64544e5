package io.licensebroker.broker.store.memory;

/** When {@link FileJournal} forces its log to the device before calling a batch durable. */
enum FsyncPolicy {
    /**
     * fdatasync after every batch, before its futures complete: an acknowledged event survives a
     * process crash and a power loss.
     */
    ALWAYS,
    /**
     * write() only: an acknowledged event is in the OS page cache, so it survives a process crash
     * (SIGKILL) but not a power loss or kernel crash. Rotation, snapshots and close still fsync.
     */
    NEVER
}
