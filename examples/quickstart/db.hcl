# A Connect-native app: it speaks mTLS itself, so .connect returns the service's own port.
service {
  name = "db"
  port = 5432
  connect {
    native = true
  }
}
