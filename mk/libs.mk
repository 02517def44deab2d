# The one link line of the project. The Makefile uses it, and writes it to
# $(B)/link-libs and $(B)/cpgo.pc for the shell tests, bench/ and users
# (`pkg-config --cflags --libs cpgo` after `make install`).
# libcurl is not on it: lib/pprof/source.c loads it on the first URL (only its header is needed).
CPGO_PKGS := libdw libelf libdeflate libprotobuf-c libmicrohttpd libunwind nettle
CPGO_LIBS := -ldw -lelf -ldeflate -lprotobuf-c -lmicrohttpd -lunwind -lnettle \
	-lpthread -ldl -lm
