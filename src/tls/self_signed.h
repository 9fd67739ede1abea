// tls/self_signed.h: a self-signed server certificate for first start without configured
// certificate files.
//
// ensure_self_signed() creates <dir>/cert.pem and <dir>/key.pem (EC P-256 key, mode 0600;
// X509v3 certificate for CN=<hostname> with subjectAltName DNS:<hostname>, valid ten
// years) unless both exist already, in which case they are reused untouched. It blocks on
// file I/O; call it at start. Thread-safety: not against concurrent calls for one dir.
#pragma once

#include <string>

#include "base/result.h"

namespace tern::tls {

struct CertPaths {
  std::string cert_file;
  std::string key_file;
};

// Errors: kIo when the directory or files cannot be written, kInternal when OpenSSL fails.
Result<CertPaths> ensure_self_signed(const std::string& dir, const std::string& hostname);

}  // namespace tern::tls
