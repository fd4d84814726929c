//! Host operations for the Sentry's host filesystem (owned by the VFS work).
