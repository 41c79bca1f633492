# Consul 1.3+ sidecars: registered as web-sidecar-proxy / api-sidecar-proxy; their processes run elsewhere.
service {
  name = "web"
  port = 8080
  connect {
    sidecar_service {}
  }
}

service {
  name = "api"
  port = 9090
  connect {
    sidecar_service {
      port = 21999
      proxy {
        upstreams = [
          { destination_name = "web", local_bind_port = 9191 }
        ]
      }
    }
  }
}
