// cli/password_input.h: reads a new password without it ever being on the command line.
#pragma once

#include <optional>
#include <string>

namespace tern::cli {

// On a terminal: prompts twice with echo off and requires both to match. Otherwise reads
// one line from stdin (the trailing newline dropped). nullopt (with a message on stderr)
// on mismatch, EOF or an empty password.
std::optional<std::string> read_new_password();

}  // namespace tern::cli
