// OpenSSL's libcrypto, for SHA-256 digests of data and result files (EVP interface only).
#include <openssl/evp.h>
