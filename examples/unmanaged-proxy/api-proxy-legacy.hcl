# Consul 1.2's spelling of the same thing: proxy_destination instead of proxy.destination_service_name.
service {
  id                = "api-proxy-2"
  name              = "api-proxy"
  kind              = "connect-proxy"
  proxy_destination = "api"
  port              = 21501
}
