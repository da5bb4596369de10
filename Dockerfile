# The orderflow binary in a minimal image: built static (no cgo; the SQLite
# driver is pure Go) in the Go image, run from distroless as non-root.
#   docker build -t orderflow .
#   docker run --rm -p 8080:8080 orderflow serve --postgres-url ...
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags='-s -w' -o /out/orderflow ./cmd/orderflow

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/orderflow /usr/local/bin/orderflow
# In a container the API must listen beyond loopback.
ENV ORDERFLOW_HTTP_ADDR=0.0.0.0:8080 \
    ORDERFLOW_LOG_FORMAT=json
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/orderflow"]
CMD ["serve"]
