{
  "targets": [
    {
      "target_name": "weft_native",
      "sources": ["original_dst.c"],
      "cflags": ["-O2", "-Wall"]
    }
  ]
}
