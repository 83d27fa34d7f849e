"""Running untrusted student code: a locked-down child process and a plain-data wire."""
