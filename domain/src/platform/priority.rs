//! Work that may wait for the CPU. Threads that run it (password hashing) ask the OS for the
//! lowest priority it grants without privileges — nice 19 on Linux — so that whenever both want
//! a core, the scheduler runs page rendering first.

/// Lowers the calling thread to the lowest priority; `work` names it in the warning logged when
/// the OS refuses (the thread then runs at normal priority, which is slower for others, not
/// wrong).
pub fn lower_current_thread(work: &str) {
    if let Err(err) = thread_priority::set_current_thread_priority(thread_priority::ThreadPriority::Min) {
        tracing::warn!(?err, work, "runs at normal priority");
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// The calling thread's nice value (−20 … 19).
    fn current_thread_niceness() -> Option<i32> {
        // /proc/thread-self/stat: "pid (comm) state ..."; nice is the 19th field, the 17th
        // after the command name (which may itself hold spaces or parentheses).
        let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
        let after_command = stat.rsplit_once(')')?.1;
        after_command.split_whitespace().nth(16)?.parse().ok()
    }

    #[test]
    fn a_lowered_thread_runs_at_nice_19_and_only_that_thread() {
        let here = current_thread_niceness();
        let (before, after) = std::thread::spawn(|| {
            let before = current_thread_niceness();
            lower_current_thread("test");
            (before, current_thread_niceness())
        })
        .join()
        .unwrap();
        assert_eq!(before, here);
        assert_eq!(after, Some(19));
        assert_eq!(current_thread_niceness(), here);
    }
}
