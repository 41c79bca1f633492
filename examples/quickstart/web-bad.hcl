# A second web instance whose TTL check is critical: healthy-only answers leave it out.
service {
  id   = "web-bad"
  name = "web"
  port = 8081
  tags = ["secondary", "v1"]
  check {
    ttl    = "30s"
    status = "critical"
  }
}
