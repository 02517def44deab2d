# The one link line of the project. The Makefile uses it, and writes it to
# $(B)/link-libs and $(B)/cpgo.pc for the shell tests, bench/ and users
# (`pkg-config --cflags --libs cpgo` after `make install`).
CPGO_PKGS := libdw libelf libdeflate libprotobuf-c libmicrohttpd libunwind libcurl nettle
CPGO_LIBS := -ldw -lelf -ldeflate -lprotobuf-c -lmicrohttpd -lunwind -lcurl -lnettle \
	-lpthread -ldl -lm
