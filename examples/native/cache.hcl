service {
  name = "cache"
  port = 11211
  connect {
    native = true
  }
}
