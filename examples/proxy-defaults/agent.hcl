# Settings every managed proxy inherits unless its service says otherwise.
connect {
  proxy_defaults {
    exec_mode      = "daemon"
    daemon_command = ["/usr/local/bin/my-proxy", "-defaults"]
    config {
      connect_timeout_ms = 1000
    }
  }
}
