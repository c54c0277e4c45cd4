// Test-only: one or more samples of every message type and operation, used
// by the round-trip and mutation tests.
#ifndef PERIMETER_SRC_SESSION_SAMPLE_MESSAGES_H_
#define PERIMETER_SRC_SESSION_SAMPLE_MESSAGES_H_

#include <string>
#include <vector>

#include "perimeter/session/message.h"

namespace perimeter::session::testing {

inline std::string SampleUserId() { return "300c9c9603b92a4b39ed3958bf9240114804db4fd373012c0ca47432d63425ae"; }

inline std::vector<Message> SampleMessages() {
  std::vector<Message> m;
  m.push_back(Request{1, WhoamiRequest{}});
  m.push_back(Request{2, PutRequest{"photo", ToBytes("\x00\x01\xff value")}});
  m.push_back(Request{3, PutRequest{"k\xc3\xa9y/\xf0\x9f\x94\x91", {}}});  // UTF-8, empty value
  m.push_back(Request{4, GetRequest{"notes/a"}});
  m.push_back(Request{0xffffffffu, DeleteRequest{"x"}});
  m.push_back(Request{6, ListRequest{"notes/", {}, 1000}});
  m.push_back(Request{7, ListRequest{"", ToBytes("\x01\x02"), 1}});
  m.push_back(Response::Ok(1, WhoamiResult{SampleUserId()}));
  m.push_back(Response::Ok(2, PutResult{}));
  m.push_back(Response::Ok(4, GetResult{ToBytes("hello")}));
  m.push_back(Response::Ok(4, GetResult{{}}));
  m.push_back(Response::Ok(5, DeleteResult{}));
  m.push_back(Response::Ok(6, ListResult{{"notes/a", "notes/b"}, ToBytes("\x01\x02\x03")}));
  m.push_back(Response::Ok(7, ListResult{{}, {}}));
  m.push_back(Response::Error(4, Operation::kGet, StatusCode::kNotFound, "workload.not_found"));
  m.push_back(Response::Error(9, Operation::kList, StatusCode::kInvalidArgument, "workload.bad_page_token"));
  m.push_back(Close{StatusCode::kUnavailable, "session.idle_timeout"});
  m.push_back(Close{StatusCode::kInvalidArgument, "session.truncated"});
  return m;
}

}  // namespace perimeter::session::testing

#endif  // PERIMETER_SRC_SESSION_SAMPLE_MESSAGES_H_
