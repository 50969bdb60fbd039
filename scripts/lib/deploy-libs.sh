# Sourced by build-static.sh and check-static.sh: the shared objects a deployable binary may
# need on the target, glibc's and libsocketcan's, and nothing else.
is_deploy_library() {
    case "$1" in
        libc.so.*|libm.so.*|libdl.so.*|libpthread.so.*|librt.so.*|ld-linux*.so.*|libsocketcan.so.*) return 0 ;;
        *) return 1 ;;
    esac
}
