service {
  name = "inventory"
  port = 7100
  connect {
    proxy {}
  }
}

service {
  name = "orders"
  port = 7200
  connect {
    proxy {
      config {
        connect_timeout_ms = 250
      }
    }
  }
}
