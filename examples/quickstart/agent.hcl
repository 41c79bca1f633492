# The agent settings of the reference setup (Consul 1.2.4 -dev, node ref-node) that connect-dns was checked against.
datacenter = "dc1"
node_name  = "ref-node"

dns_config {
  # Consul's default: answers carry TTL 0, so clients always ask again.
  service_ttl {
    "*" = "0s"
  }
  node_ttl         = "0s"
  udp_answer_limit = 3
}
