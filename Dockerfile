# The layergate tool image: a static musl binary on Alpine. Alpine rather than
# distroless because GitLab CI runs job scripts with the image's shell; the binary
# itself needs nothing but CA certificates.
FROM rust:1-alpine AS build
RUN apk add --no-cache musl-dev gcc make
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin layergate \
 && strip target/release/layergate

FROM alpine:3.21
RUN apk add --no-cache ca-certificates \
 && adduser -D -u 10001 layergate
COPY --from=build /src/target/release/layergate /usr/local/bin/layergate
USER layergate
WORKDIR /work
ENTRYPOINT ["layergate"]
CMD ["--help"]
