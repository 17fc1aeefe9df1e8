// The static-file route: GET and HEAD of any path no other route claims.
#pragma once

namespace sse {

class Server;
class StaticFiles;

// GET/HEAD for any path no other route claims: files from the www folder.
void install_static_files(Server& server, const StaticFiles& files);

}  // namespace sse
