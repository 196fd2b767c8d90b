-- wrk script: sends N requests back to back in each write (HTTP/1.1 pipelining),
-- N given after `--` on wrk's command line (default 16).
init = function(args)
   local depth = tonumber(args[1]) or 16
   local one = wrk.format()
   local batch = {}
   for i = 1, depth do
      batch[i] = one
   end
   req = table.concat(batch)
end

request = function()
   return req
end
