#include "cli/password_input.h"

#include <termios.h>
#include <unistd.h>

#include <iostream>

#include "base/limits.h"

namespace tern::cli {
namespace {

std::optional<std::string> read_line_from_stdin() {
  std::string line;
  if (!std::getline(std::cin, line)) return std::nullopt;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

std::optional<std::string> prompt_hidden(const char* prompt) {
  std::cerr << prompt << std::flush;
  termios old{};
  tcgetattr(STDIN_FILENO, &old);
  termios quiet = old;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  auto line = read_line_from_stdin();
  tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
  std::cerr << "\n";
  return line;
}

}  // namespace

std::optional<std::string> read_new_password() {
  std::optional<std::string> password;
  if (isatty(STDIN_FILENO)) {
    password = prompt_hidden("New password: ");
    auto again = prompt_hidden("Repeat password: ");
    if (password && again && *password != *again) {
      std::cerr << "tern: the passwords do not match\n";
      return std::nullopt;
    }
  } else {
    password = read_line_from_stdin();
  }
  if (!password || password->empty()) {
    std::cerr << "tern: no password given (type it at the prompt or pipe it on stdin)\n";
    return std::nullopt;
  }
  if (password->size() > limits::kMaxPasswordLength) {
    std::cerr << "tern: the password is too long\n";
    return std::nullopt;
  }
  return password;
}

}  // namespace tern::cli
