# ctest -P script: convert MODEL to OUT, then evaluate DATA with both files;
# the printed energies and forces must agree to the digits eval prints.
execute_process(COMMAND ${FLASHTP} convert ${MODEL} -o ${OUT} RESULT_VARIABLE rc OUTPUT_VARIABLE log ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "convert failed (${rc}):\n${log}${err}")
endif()
foreach(file ${MODEL} ${OUT})
  # Type 3 (Zr in the reference data files) has no atoms in hfo2_96, and the HfO2 model no Zr.
  execute_process(COMMAND ${FLASHTP} eval --model ${file} --data ${DATA} --species Hf,O,Hf
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "eval of ${file} failed (${rc}):\n${out}${err}")
  endif()
  list(APPEND results "${out}")
endforeach()
list(GET results 0 original)
list(GET results 1 converted)
if(NOT original STREQUAL converted)
  message(FATAL_ERROR "the converted model evaluates differently:\n${original}\nvs\n${converted}")
endif()
message(STATUS "${converted}")
